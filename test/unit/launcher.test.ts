// `tessera` as npm links it: bin/tessera.cjs run by its first line. That line starts Node with the V8
// flags a long run needs (docs/scale.md, "CPU per cycle and the collector"); benchmarks read the same line.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliNodeFlags } from '../../bench/lib/cli-node-flags';

const BIN = join(__dirname, '..', '..', 'bin', 'tessera.cjs');

describe('the tessera launcher', () => {
  it('runs when executed directly, as the command npm installs', () => {
    const r = spawnSync(BIN, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('starts Node itself with the flags, in the same process (a kill -9 of tessera stops the engine)', async () => {
    const flags = cliNodeFlags();
    expect(flags).toContain('--no-memory-reducer');
    const child = spawn(BIN, ['emulator', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('listening on')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`tessera emulator exited with ${code}`)));
        setTimeout(() => reject(new Error('tessera emulator did not start in 20 s')), 20_000);
      });
      // `env -S` replaces itself with node: the pid we started is the engine's, with the flags on its command line.
      const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
      expect(argv[0]).toMatch(/node$/);
      for (const flag of flags) expect(argv).toContain(flag);
      expect(argv).toContain(BIN);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});
