import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobHost, type RunEnd } from '../../main/core/engine/host';
import { emulatorSession } from '../../main/core/google/session';
import { rectangleJob } from '../helpers/job';
import { useEmulator } from '../helpers/emulator';

/**
 * `tessera serve` and the desktop app run a job through the same JobSession as `tessera run`
 * (docs/ARCHITECTURE.md, "The job session"): the recipe is built for the first tile before anything is
 * sent, so a broken recipe stops the job with its message and no Earth Engine task.
 */
const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 300 });

describe('the host runs the job session', () => {
  it('a recipe that does not build stops the job before any task is sent, naming the recipe line', { timeout: 60_000 }, async () => {
    const job = rectangleJob('hostbad', 2, 1, { recipe: { file: 'bad.js', timeoutSeconds: 5 } });
    writeFileSync(join(job.dir, 'bad.js'), "const helper = () => {\n  throw new Error('no imagery here');\n};\nmodule.exports = (tile, ee) => helper();\n");
    const ends: RunEnd[] = [];
    const host = new JobHost({ connect: async () => ({ session: await emulatorSession(emu.url), timeScale: 1000 }), progressIntervalMs: 50, onRunEnd: (_, end) => ends.push(end) });
    try {
      await host.add(job.file);
      host.start('hostbad');
      await host.settled();
      expect(ends).toHaveLength(1);
      expect(ends[0]!.exitCode).toBe(1);
      expect(ends[0]!.message).toMatch(/bad\.js:2.*no imagery here/);
      expect(emu.state().operations.filter((o) => o.description?.startsWith('hostbad_'))).toEqual([]);
    } finally {
      await host.stop();
    }
  });
});
