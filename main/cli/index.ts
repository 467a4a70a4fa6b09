import { Command, CommanderError } from 'commander';
import { isTesseraError } from '../core/errors';
import { emulatorCommand } from './commands/emulator';
import { gridCommand } from './commands/grid';
import { runCommand } from './commands/run';
import { loginCommand, logoutCommand } from './commands/login';
import { statusCommand } from './commands/status';
import { serveCommand } from './commands/serve';
import { recipesCommand } from './commands/recipes';
import { assetsCommand } from './commands/assets';
import { doctorCommand } from './commands/doctor';
import { retryCommand } from './commands/retry';
import { installCrashHookFromEnv } from './crash-hook';
import { boundHeapGrowth } from '../common/heap-growth';

/** The `tessera` command line. Every failure ends as one line on stderr and an exit code (docs/states.md#exit-codes). */
export async function main(argv: string[]): Promise<number> {
  installCrashHookFromEnv();
  // A million-unit job's engine would otherwise hold up to 4× its live state (docs/scale.md, "Memory of a run").
  boundHeapGrowth();
  const program = new Command('tessera')
    .description('Run Google Earth Engine exports over regions too large for one export.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const cmd of [gridCommand(), emulatorCommand(), runCommand(), statusCommand(), loginCommand(), logoutCommand(), serveCommand(), recipesCommand(), assetsCommand(), doctorCommand(), retryCommand()]) program.addCommand(cmd.exitOverride());
  try {
    await program.parseAsync(argv, { from: 'user' });
    // Long-running commands (run, serve) set process.exitCode themselves (docs/cli.md#every-command).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 1;
    }
    // The error model's one mapping to exit codes (main/core/errors.ts).
    if (isTesseraError(e)) {
      process.stderr.write(`tessera: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`tessera: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.TESSERA_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : ''}\n`);
    else process.stderr.write('tessera: set TESSERA_DEBUG=1 for details\n');
    return 1;
  }
}

declare const __TESSERA_VERSION__: string;
const VERSION = typeof __TESSERA_VERSION__ === 'string' ? __TESSERA_VERSION__ : '0.0.0-dev';

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
