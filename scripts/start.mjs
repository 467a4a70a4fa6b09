// `npm start`: builds, then runs the desktop app with the Electron binary — found without downloading
// (see electron-binary.mjs). Without one, ONE line says why and how to get it, instead of a stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from './electron-binary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const found = electronBinary(root);
if (!found.path) {
  console.error(`tessera: the Electron binary is not available offline (${found.why}); on a machine with internet run "npx install-electron" (or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron), then npm start again — the CLI works meanwhile (npx tessera --help)`);
  process.exit(1);
}
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE; // it would turn Electron into plain Node
const child = spawn(found.path, [root, ...process.argv.slice(2)], { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
