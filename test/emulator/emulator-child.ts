/**
 * The emulator in a process of its own, for tests that kill it (SIGKILL) to prove that what it answered
 * survives a crash: `node --import tsx emulator-child.ts '<options JSON>'` prints `listening on URL`.
 */
import { startEmulator } from '../../main/emulator';

async function main(): Promise<void> {
  const emu = await startEmulator(JSON.parse(process.argv[2] ?? '{}') as Record<string, never>);
  process.stdout.write(`listening on ${emu.url}\n`);
  const stop = (): void => void emu.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
