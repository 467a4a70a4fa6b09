// `tessera serve` reads the built dashboard once at start. A folder it cannot read must be reported as
// what it is, not as "not built" (that sent a CI run hunting for a build that was there).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDashboardServer } from '../../main/server/server';
import { FakeHost } from '../desktop/fakes';

describe('the built dashboard, as serve reads it', () => {
  it('a folder that is missing says "not built"; one that cannot be read says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-renderer-files-'));
    await expect(startDashboardServer({ host: new FakeHost(), rendererDir: join(dir, 'missing'), token: 'T' })).rejects.toThrow(/not built/);
    const notAFolder = join(dir, 'renderer');
    writeFileSync(notAFolder, 'a file where the folder should be');
    const failure = startDashboardServer({ host: new FakeHost(), rendererDir: notAFolder, token: 'T' });
    await expect(failure).rejects.toThrow(/cannot read the dashboard's files in .*ENOTDIR/);
  });
});
