import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { JobHost } from '../../core/engine/host';
import { startDashboardServer } from '../../server/server';
import { connect } from '../connect';
import { serveServices } from '../serve-services';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run jobs headless (as tessera run) and serve the dashboard on 127.0.0.1; runs until SIGINT/SIGTERM')
    .argument('[job.json...]', 'job files to run')
    .option('--emulator <url>', 'send every Google request to this emulator (signs in by itself)')
    .option('--port <n>', 'port on 127.0.0.1 (default: any free port)')
    .option('--allow-custom-recipes', "let the page's job wizard upload and run custom recipe files (off by default: anyone with the page's token could run code here)")
    .option('--data <dir>', "Tessera's data folder: files sent from the browser's job wizard go to <dir>/uploads (default $XDG_DATA_HOME/tessera or ~/.local/share/tessera)")
    .action(async (jobPaths: string[], opts: { emulator?: string; port?: string; data?: string; allowCustomRecipes?: boolean }) => {
      const port = parsePort(opts.port);
      const rendererDir = findRenderer();
      // The settings' EE project applies to jobs that name none (read when a job connects).
      let defaultProject: () => string | undefined = () => undefined;
      const host = new JobHost({
        connect: (project) => connect(opts.emulator, project ?? defaultProject()),
        holder: 'tessera serve',
        uploadsDir: join(dataDir(opts.data), 'uploads'),
        allowCustomRecipes: opts.allowCustomRecipes === true,
        onRunEnd: (job, end) => {
          if (end.exitCode === 0) process.stdout.write(`${job}: every tile done\n`);
          else process.stderr.write(`${job}: stopped (exit ${end.exitCode})${end.message ? `: ${end.message}` : ''}\n`);
        },
      });
      let server: Awaited<ReturnType<typeof startDashboardServer>> | undefined;
      let stopAccount: (() => Promise<void>) | undefined;
      try {
        for (const path of jobPaths) await host.add(path);
        const { services, settings, account } = serveServices(host, opts.emulator);
        defaultProject = () => settings.get().eeProject ?? undefined;
        stopAccount = () => account.cancel();
        server = await startDashboardServer({ host, rendererDir, port, services });
        host.startAll();
        process.stdout.write(`serving on ${server.url}/#token=${server.token}\n`);
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        // Like Ctrl-C in `tessera run`: 130 when a run was cut short, 0 when every job had ended.
        process.exitCode = host.busy() ? 130 : 0;
      } finally {
        await stopAccount?.();
        await host.stop();
        await server?.close();
      }
    });
}

/** Tessera's data folder: --data, else $XDG_DATA_HOME/tessera, else ~/.local/share/tessera. */
function dataDir(given: string | undefined): string {
  if (given) return resolve(given);
  const xdg = process.env.XDG_DATA_HOME;
  return xdg && isAbsolute(xdg) ? join(xdg, 'tessera') : join(homedir(), '.local', 'share', 'tessera');
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UserError(`--port needs a port number (0–65535), not "${value}"`);
  return n;
}

/** The built renderer: out/renderer beside the bundled CLI (out/cli), or TESSERA_RENDERER_DIR. */
function findRenderer(): string {
  const candidates = [process.env.TESSERA_RENDERER_DIR, join(__dirname, '..', 'renderer'), join(__dirname, '..', '..', '..', 'out', 'renderer')];
  for (const dir of candidates) if (dir && existsSync(join(dir, 'index.html'))) return dir;
  throw new UserError('the dashboard is not built: run npm run build in the checkout');
}
