// `tessera serve` reads the built dashboard once at start. A folder it cannot read must be reported as
// what it is, not as "not built" (that sent a CI run hunting for a build that was there), and a folder
// that `npm run build` is rewriting at that moment is read again rather than refused.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDashboardServer } from '../../main/server/server';
import { FakeHost } from '../desktop/fakes';

describe('the built dashboard, as serve reads it', () => {
  it('a folder that is missing says "not built"; one that cannot be read says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-renderer-files-'));
    await expect(startDashboardServer({ host: new FakeHost(), rendererDir: join(dir, 'missing'), token: 'T' })).rejects.toThrow(/not built .*the folder does not exist/);
    const notAFolder = join(dir, 'renderer');
    writeFileSync(notAFolder, 'a file where the folder should be');
    const failure = startDashboardServer({ host: new FakeHost(), rendererDir: notAFolder, token: 'T' });
    await expect(failure).rejects.toThrow(/cannot read the dashboard's files in .*ENOTDIR/);
  });

  it('a folder being rebuilt (index.html not written yet) is read again, then served', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tessera-renderer-files-')), 'renderer');
    mkdirSync(dir);
    writeFileSync(join(dir, 'app.js'), 'void 0;');
    setTimeout(() => writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>'), 300);
    const server = await startDashboardServer({ host: new FakeHost(), rendererDir: dir, token: 'T' });
    try {
      const page = await fetch(`${server.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>t</title>');
    } finally {
      await server.close();
    }
  });

  it('a folder that stays without index.html is refused, naming what it holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-renderer-files-'));
    writeFileSync(join(dir, 'app.js'), 'void 0;');
    await expect(startDashboardServer({ host: new FakeHost(), rendererDir: dir, token: 'T' })).rejects.toThrow(/no index\.html in .*it holds app\.js/);
  });
});
