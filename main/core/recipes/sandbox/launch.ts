import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How a custom recipe's child process is started (docs/security.md, "Recipes"): as plain Node under its
 * permission model, reading only its own bundled script, with no environment but what Node needs for the
 * IPC channel, a bounded heap, and nothing of the parent's (no credentials, no tokens, no proxy settings).
 */

/** The heap a recipe's child may use (MB): the Earth Engine client needs ~40 MB; expressions are small. */
export const RECIPE_HEAP_MB = 256;

/**
 * The flag that turns Node's permission model on, for the running Node: `--permission` (Node ≥ 22.13 and
 * 23.5) or `--experimental-permission` (Node 20, early 22); undefined when neither exists. `flags` is
 * `process.allowedNodeEnvironmentFlags`, which lists both where they exist.
 */
export function permissionFlag(flags: ReadonlySet<string>): '--permission' | '--experimental-permission' | undefined {
  if (flags.has('--permission')) return '--permission';
  if (flags.has('--experimental-permission')) return '--experimental-permission';
  return undefined;
}

/** True when this process is Electron (its executable is Electron, which runs as Node only when told). */
export function runningInElectron(versions: NodeJS.ProcessVersions = process.versions): boolean {
  return typeof (versions as Record<string, string | undefined>).electron === 'string';
}

export interface ChildCommand {
  execPath: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * The child's command line. Under Electron, `ELECTRON_RUN_AS_NODE=1` makes the Electron binary behave as
 * Node (the packaged app keeps the `runAsNode` fuse on for this; electron-builder.yml). No other variable
 * is passed: Node adds its IPC channel's own.
 */
export function childCommand(input: { execPath: string; script: string; flag: string; electron: boolean }): ChildCommand {
  return {
    execPath: input.execPath,
    args: [
      input.flag,
      `--allow-fs-read=${input.script}`,
      `--max-old-space-size=${RECIPE_HEAP_MB}`,
      '--no-warnings', // the permission model's "experimental" notice would reach the user's terminal
      '--disallow-code-generation-from-strings',
      input.script,
    ],
    env: input.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {},
  };
}

/**
 * The bundled child script: out/recipe/child.cjs beside the CLI's or the app's bundle, or the repo's out/
 * when running from sources (tests). Inside a packaged app it is unpacked from the asar archive (a Node
 * child cannot read into the archive under the permission model).
 */
export function childScript(here: string = __dirname): string | undefined {
  const candidates = [join(here, '..', 'recipe', 'child.cjs'), join(here, '..', '..', '..', '..', 'out', 'recipe', 'child.cjs')].map((p) =>
    p.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2'),
  );
  return candidates.find((p) => existsSync(p));
}
