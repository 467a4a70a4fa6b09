import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { TILE_STATES } from '../../shared/contract';
import type { DashboardSnapshot } from '../../shared/dashboard';
import { tessera } from '../helpers/cli';
import { rectangleJob } from '../helpers/job';
import { canvasColourAt, launchBrowser, legendCounts, openPage, pageValue, screenshotPath, serve, until, type Served } from './helpers';

const QUOTA = 5_000_000_000;

let emu: EmulatorHandle;
let browser: Browser;
const served: Served[] = [];

beforeAll(async () => {
  // 20 tiles, two EE slots, ~1 s per task in real time: long enough to watch, short enough for a test.
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 1000, slots: 2, driveQuotaBytes: QUOTA });
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const s of served) await s.stop(5_000);
  await browser?.close();
  await emu?.stop();
});

/** GET /api/snapshot with the token and a chosen Host header (fetch cannot set Host). */
function statusWithHost(s: Served, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${s.origin}/api/snapshot`, { headers: { Host: host, Authorization: `Bearer ${s.token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function api(s: Served, path: string, init: RequestInit = {}, token: string | null = s.token): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set('Authorization', `Bearer ${token}`);
  return fetch(`${s.origin}${path}`, { ...init, headers });
}

describe('tessera serve: the dashboard in Chromium against the emulator', () => {
  it('shows the job live: legend from pending to done, quota meter, tile search and details', { timeout: 150_000 }, async () => {
    // cleanup "trash" keeps every output in Drive's trash: the meter then has something to follow.
    const job = rectangleJob('dash', 5, 4, { maxInFlight: 4, cleanup: 'trash' });
    const s = await serve([job.file, '--emulator', emu.url]);
    served.push(s);

    // The token: the API refuses requests without it, or with a wrong one; every answer sends no-referrer.
    for (const [path, token] of [['/api/snapshot', null], ['/api/events', null], ['/api/snapshot', 'not-the-token'], ['/api/jobs/dash/summary', null]] as const) {
      const r = await api(s, path, {}, token);
      expect(r.status, `${path} with token ${token}`).toBe(401);
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      await r.body?.cancel();
    }
    const bad = await api(s, '/api/command', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'retry', job: 'dash' }) }, null);
    expect(bad.status).toBe(401);
    const page0 = await fetch(s.origin + '/');
    expect(page0.status).toBe(200);
    expect(page0.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page0.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page0.text()).not.toContain(s.token);
    // Another Host (DNS rebinding) is refused even with the token.
    expect(await statusWithHost(s, 'evil.example:80')).toBe(403);
    expect(await statusWithHost(s, new URL(s.origin).host)).toBe(200);

    const { page, problems } = await openPage(browser, s.url);
    // The token leaves the address bar once read.
    await until(() => pageValue<boolean>(page, "location.hash === ''"), 10_000, 100, 'the fragment to be cleared');
    await page.waitForSelector('[data-testid="legend-pending-count"]', { timeout: 20_000 });
    await until(() => pageValue<boolean>(page, "document.querySelector('.leaflet-container')?.dataset.basemap === 'offline'"), 10_000, 100, 'offline basemap');

    // Watch the legend until every tile is done; the counts only ever move forward.
    const seen: Record<string, number>[] = [];
    let midShot = false;
    await until(
      async () => {
        const c = await legendCounts(page);
        seen.push(c);
        const sum = TILE_STATES.reduce((n, st) => n + (st === 'split' ? 0 : (c[st] ?? 0)), 0);
        expect(sum).toBe(20);
        if (!midShot && c.done! >= 5 && c.done! <= 15) {
          await page.screenshot({ path: screenshotPath('serve-mid-job.png') });
          midShot = true;
        }
        return c.done === 20;
      },
      90_000,
      150,
      'every tile done in the legend',
    );
    expect(seen[0]!.pending).toBeGreaterThan(0);
    expect(seen[0]!.done).toBeLessThan(20);
    for (let k = 1; k < seen.length; k++) expect(seen[k]!.done).toBeGreaterThanOrEqual(seen[k - 1]!.done!);
    expect(seen.some((c) => c.running! > 0 || c.queued! > 0)).toBe(true);
    expect(midShot).toBe(true);

    // The legend agrees with `tessera status --json` and with the server's snapshot.
    const status = tessera(['status', job.file, '--json']);
    expect(status.code).toBe(0);
    const statusTiles = (JSON.parse(status.stdout) as { tiles: Record<string, number> }).tiles;
    const snap = (await (await api(s, '/api/snapshot')).json()) as DashboardSnapshot;
    const serverTiles: Record<string, number> = Object.fromEntries(TILE_STATES.map((st) => [st, 0]));
    for (const t of snap.jobs[0]!.tiles) serverTiles[t.state]!++;
    const final = await legendCounts(page);
    for (const st of TILE_STATES) {
      expect(final[st], st).toBe(statusTiles[st] ?? 0);
      expect(final[st], st).toBe(serverTiles[st]);
    }

    // The meter follows the emulator's Drive: every output sits in the trash, and the limit is the configured one.
    const meter = page.getByRole('meter');
    await until(
      async () => Number(await meter.getAttribute('aria-valuenow')) === emu.state().quota.usage && emu.state().quota.usage > 0,
      20_000,
      200,
      "the meter to show the emulator's usage",
    );
    expect(Number(await meter.getAttribute('aria-valuemax'))).toBe(QUOTA);
    expect(emu.state().quota.limit).toBe(QUOTA);
    expect(await meter.getAttribute('aria-valuetext')).not.toBe('unlimited');
    expect(await page.locator('.gauge-label').textContent()).toMatch(/^[\d.]+ (B|KiB|MiB) of 4\.7 GiB$/);

    // Search a tile: the details show its id, its EE operation and its file's MD5, as the emulator has them.
    const id = snap.jobs[0]!.tiles[7]!.id;
    await page.getByTestId('tile-search').fill(id);
    const details = page.getByTestId('tile-details');
    await expect.poll(() => details.getByTestId('tile-details-id').textContent(), { timeout: 10_000 }).toBe(id);
    const state = emu.state();
    const op = state.operations.find((o) => o.description === `dash_${id}_a1`)!;
    const file = state.files.find((f) => f.name === `dash_${id}.tif`)!;
    expect(op).toBeTruthy();
    expect(file).toBeTruthy();
    await expect.poll(() => details.getByTestId('tile-operation').textContent(), { timeout: 10_000 }).toBe(op.name);
    expect(await details.getByTestId('tile-files').textContent()).toContain(file.md5Checksum);
    expect(await details.getByTestId('tile-history').textContent()).toMatch(/pending.*submitting.*queued.*exported.*downloading.*verified.*done/s);
    expect(await details.getByTestId('tile-retry').isDisabled()).toBe(true);
    expect(await page.getByTestId('job-progress').textContent()).toMatch(/20 \/ 20 tiles done/);
    await expect.poll(() => page.getByTestId('job-status').textContent(), { timeout: 10_000 }).toBe('finished');

    // Clicking the map selects the tile under the pointer (through the spatial index, not Leaflet).
    await details.getByRole('button', { name: 'Close the details' }).click();
    await expect.poll(() => page.getByTestId('tile-details').count()).toBe(0);
    const box = (await page.getByTestId('tile-map').boundingBox())!;
    // (Off the centre a little: with an even number of rows the centre is on an edge.)
    await page.mouse.click(box.x + box.width / 2 + 25, box.y + box.height / 2 + 25);
    await expect.poll(() => page.getByTestId('tile-details-id').textContent(), { timeout: 5_000 }).toMatch(/^x\d+_y\d+$/);
    await page.screenshot({ path: screenshotPath('serve-end.png') });
    expect(problems).toEqual([]);
    await page.close();

    // Ctrl-C with every job finished: exit 0, lock released.
    expect(await s.stop()).toBe(0);
    expect(existsSync(join(job.stateDir, 'lock'))).toBe(false);
  });

  it('a failed tile stands out; its retry button sends the command and the tile is done after all', { timeout: 120_000 }, async () => {
    // Every tile is above the emulator's memory limit and may not split: all fail.
    emu.configure({ memoryPixels: 1000 });
    const job = rectangleJob('dashfail', 3, 2, { splitDepth: 0, maxInFlight: 6 });
    const s = await serve([job.file, '--emulator', emu.url]);
    served.push(s);
    const { page, problems } = await openPage(browser, s.url);
    await until(async () => (await legendCounts(page)).failed === 6, 60_000, 150, 'six failed tiles');
    emu.configure({ memoryPixels: null });
    await expect.poll(() => page.getByTestId('job-status').textContent(), { timeout: 10_000 }).toMatch(/finished · 6 failed/);
    expect(await page.getByTestId('legend-failed').getAttribute('class')).toContain('alarm');

    // The failed tile is drawn in red on the map.
    const box = (await page.getByTestId('tile-map').boundingBox())!;
    const [x, y] = [box.x + box.width / 2 + 25, box.y + box.height / 2 + 25];
    const [r, g, b] = await canvasColourAt(page, x, y);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(110);
    expect(b).toBeLessThan(110);

    // Clicking the failed legend entry selects a failed tile; its details say why; Retry sends `retry`.
    await page.getByTestId('legend-failed').locator('button').click();
    const details = page.getByTestId('tile-details');
    await expect.poll(() => details.getByTestId('tile-message').textContent(), { timeout: 10_000 }).toContain('User memory limit exceeded.');
    const id = (await details.getByTestId('tile-details-id').textContent())!;
    await page.screenshot({ path: screenshotPath('serve-failed.png') });
    const sent = page.waitForRequest((req) => req.url().endsWith('/api/command') && req.method() === 'POST');
    await details.getByTestId('tile-retry').click();
    const request = await sent;
    expect(JSON.parse(request.postData()!)).toEqual({ type: 'retry', job: 'dashfail', tiles: [id] });
    expect(request.headers()['authorization']).toBe(`Bearer ${s.token}`);
    // The run starts again for that tile, which now fits in memory.
    await until(async () => (await legendCounts(page)).done === 1, 30_000, 150, 'the retried tile done');
    expect((await legendCounts(page)).failed).toBe(5);
    await expect.poll(() => details.getByTestId('tile-details-id').textContent()).toBe(id);
    await expect.poll(() => details.locator('.state-chip').textContent(), { timeout: 10_000 }).toBe('done');
    expect(problems).toEqual([]);
    await page.close();
    expect(await s.stop()).toBe(0);
  });
});
