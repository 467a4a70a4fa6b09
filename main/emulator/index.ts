import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applyPatch, parseOptions, resolveOptions, type EmulatorConfig, type EmulatorOptions } from './options';
import { Persistence } from './persist';
import { Emulator, type EmulatorState } from './server';

export { DEFAULTS, OPTION_SPECS, OptionsError, parseBytes, parseOptions, resolveOptions, type EmulatorConfig, type EmulatorOptions, type OptionSpec } from './options';
export type { EmulatorState, StateFile, StateOperation } from './server';

/** The in-process emulator (docs/emulator.md#in-process-api). */
export interface EmulatorHandle {
  /** `http://127.0.0.1:PORT`, no trailing slash: the EE base URL, Drive's rootUrl and the OAuth host. */
  readonly url: string;
  /**
   * What `GET /__emulator/state` returns, as of the last time the task queue advanced (every request and
   * every simulated event does that; `sync()` forces it).
   */
  state(): EmulatorState;
  /** Changes options at run time, like `POST /__emulator/config`; returns the full new configuration. */
  configure(patch: EmulatorOptions): EmulatorConfig;
  /** Brings the simulated task queue up to the present. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the Google emulator on 127.0.0.1. Options are validated (an unknown key or a bad value throws an
 * OptionsError naming it); every promised option (docs/emulator.md#options) is accepted.
 *
 * With `dataDir`, the emulator keeps its whole state there and a later start with the same folder
 * continues it: the configuration it had (changes made at run time included), with the options given to
 * this start applied over it.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  let config = resolveOptions(options);
  let root: string;
  let owns: boolean;
  let persisted: Awaited<ReturnType<typeof Persistence.open>> | null = null;
  if (config.dataDir) {
    root = resolve(config.dataDir);
    await mkdir(root, { recursive: true });
    owns = false;
    persisted = await Persistence.open(root, (m) => process.stderr.write(`emulator: ${m}\n`));
    if (persisted.state) {
      config = applyPatch(resolveOptions(persisted.state.meta.config), parseOptions(options));
    }
  } else {
    root = await mkdtemp(join(tmpdir(), 'tessera-emulator-'));
    owns = true;
  }
  let emu: Emulator;
  try {
    emu = await Emulator.create(config, root, owns, config.catalogPath, persisted);
  } catch (e) {
    await persisted?.store.close();
    throw e;
  }
  try {
    await emu.listen(config.port);
  } catch (e) {
    await emu.stop();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${config.port} on 127.0.0.1 is already in use`);
    throw e;
  }
  return {
    url: emu.url,
    state: () => emu.state(),
    configure: (patch) => emu.configure(patch),
    sync: () => emu.sync(),
    stop: () => emu.stop(),
  };
}
