import { Command, Option } from 'commander';
import { UserError } from '../../core/errors';
import { DEFAULTS, OPTION_SPECS, OptionsError, parseBytes, startEmulator, type EmulatorOptions, type OptionSpec } from '../../emulator';

/** `tessera emulator`: Google's Earth Engine, Drive and OAuth endpoints on 127.0.0.1 (docs/emulator.md#where-it-listens). */
export function emulatorCommand(): Command {
  const cmd = new Command('emulator').description(
    'run the Google emulator (Earth Engine REST v1, Drive v3, OAuth) on 127.0.0.1 until SIGINT/SIGTERM',
  );
  for (const spec of OPTION_SPECS) {
    const def = DEFAULTS[spec.key];
    const shown = def === null ? (spec.none ?? 'none') : String(def);
    const help = `${spec.help}${spec.later ? ' (takes effect from emulator part 2)' : ''} (default: ${shown})`;
    cmd.addOption(spec.kind === 'boolean' ? new Option(spec.flag, help) : new Option(`${spec.flag} <${valueName(spec)}>`, help));
  }
  cmd.action(async (raw: Record<string, string | boolean | undefined>) => {
    const options: Record<string, unknown> = {};
    for (const spec of OPTION_SPECS) {
      const v = raw[camel(spec.flag)];
      if (v === undefined) continue;
      options[spec.key] = convert(spec, v);
    }
    let emu;
    try {
      emu = await startEmulator(options as EmulatorOptions);
    } catch (e) {
      if (e instanceof OptionsError || (e instanceof Error && /already in use/.test(e.message))) throw new UserError(e.message);
      throw e;
    }
    process.stdout.write(`listening on ${emu.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void emu.stop().then(resolve, resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  });
  return cmd;
}

function valueName(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'bytes': return 'bytes';
    case 'rate': return '0..1';
    case 'string': return spec.key === 'dataDir' ? 'dir' : spec.key === 'catalogPath' ? 'file.json' : spec.key === 'lostAnswerMode' ? 'reset|close|timeout' : spec.key === 'timeoutMessage' ? 'text' : spec.key === 'grantScopes' ? 'scope,…' : 'id';
    case 'int': return 'n';
    default: return 'x';
  }
}

/** Commander's attribute name for a flag: `--http5xx-rate` → `http5xxRate`. */
function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function convert(spec: OptionSpec, v: string | boolean): unknown {
  if (spec.kind === 'boolean') return v === true;
  const text = String(v);
  if (spec.kind === 'string') return text;
  const n = spec.kind === 'bytes' ? parseBytes(text) : Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UserError(`${spec.flag} must be ${spec.kind === 'bytes' ? 'a byte count (e.g. 15GB, 2GiB)' : 'a number'}, not "${text}"`);
  return n;
}
