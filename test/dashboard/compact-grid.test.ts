import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_STYLES } from '../../renderer/states';
import type { TileState } from '../../shared/contract';
import { buildHarness, canvasColourAt, launchBrowser, legendCounts, openPage, pageValue } from './helpers';

/**
 * A million units on the dashboard (docs/dashboard.md, "A million units"): the harness's host holds its
 * 1,000 × 1,000 grid (tile `g{i}_{j}` at 11 + 0.01·i °E, 50 + 0.01·j °N) as one state byte per unit and
 * serves it through the `compactSnapshot` channel; the page paints the raster straight from those bytes,
 * and a click on a cell shows that unit's details. The harness plans three solid 40 × 40 blocks along the
 * grid's south edge — done, failed, pending — so their colours can be read from the map's own pixels at the
 * zoom that fits the whole job (where one unit is a fraction of a pixel).
 */
const SIDE = 1000;
const BLOCKS = [
  { state: 'done', i: [0, 40] },
  { state: 'failed', i: [60, 100] },
  { state: 'pending', i: [120, 160] },
] as const;
const rgb = (state: TileState) => {
  const n = parseInt(STATE_STYLES[state].fill.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
};

let dir: string;
let browser: Browser;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-compact-'));
  await buildHarness(dir, { production: true });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The page point of (lon, lat): Web Mercator from the map's centre (`data-center`) and zoom (the canvas's `data-zoom`). */
const pointOf = (lon: number, lat: number) => `(() => {
  const el = document.querySelector('[data-testid="tile-map"]');
  const [clat, clon] = el.dataset.center.split(',').map(Number);
  const z = Number(document.querySelector('.leaflet-tiles-pane canvas').dataset.zoom);
  const X = (v) => ((v + 180) / 360) * 256 * 2 ** z;
  const Y = (v) => { const s = Math.sin((v * Math.PI) / 180); return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256 * 2 ** z; };
  const r = el.getBoundingClientRect();
  return [r.left + r.width / 2 + X(${lon}) - X(clon), r.top + r.height / 2 + Y(${lat}) - Y(clat)];
})()`;

describe('a million units from the compact snapshot (Chromium)', () => {
  it('loads the grid as bytes, paints each planned state in its colour, and a click shows that unit', async () => {
    const { page, problems } = await openPage(browser, `${pathToFileURL(join(dir, 'harness.html')).href}?grid=${SIDE}&fit=grid`);
    await expect.poll(async () => Object.values(await legendCounts(page)).reduce((a, b) => a + b, 0), { timeout: 60_000 }).toBe(SIDE * SIDE + 9);
    // The page asked for the compact snapshot, never for a million objects.
    expect(await pageValue<Record<string, number>>(page, 'window.harness.snapshotCalls')).toEqual({ compactSnapshot: 1 });
    const canvas = `document.querySelector('.leaflet-tiles-pane canvas')`;
    await expect.poll(() => pageValue<string>(page, `${canvas}.dataset.mode`), { timeout: 20_000 }).toBe('raster');
    // The raster pass ends by recording how many tiles it drew: every unit, from the bytes.
    await expect.poll(() => pageValue<string>(page, `${canvas}.dataset.tiles`), { timeout: 20_000 }).toBe(String(SIDE * SIDE + 9));
    await expect.poll(() => pageValue<string>(page, `document.querySelector('[data-testid="tile-map"]').dataset.center`)).not.toBe('');
    const details = page.getByTestId('tile-details');
    for (const block of BLOCKS) {
      // The middle of the block: its colour on the map, and a click there selects one of its units.
      // (Polled: the map may still be gliding to the fitted view, `data-center` follows at its end.)
      const middle = pointOf(11 + ((block.i[0] + block.i[1]) / 2) * 0.01, 50.2);
      await expect.poll(async () => canvasColourAt(page, ...(await pageValue<[number, number]>(page, middle))), { timeout: 10_000 }).toEqual(rgb(block.state));
      const [x, y] = await pageValue<[number, number]>(page, middle);
      await page.mouse.click(x, y);
      await expect.poll(() => details.getByTestId('tile-details-id').textContent()).toMatch(/^g\d+_\d+$/);
      const [i, j] = (await details.getByTestId('tile-details-id').textContent())!.slice(1).split('_').map(Number) as [number, number];
      expect(i, `${block.state} block, column`).toBeGreaterThanOrEqual(block.i[0]);
      expect(i, `${block.state} block, column`).toBeLessThan(block.i[1]);
      expect(j, `${block.state} block, row`).toBeLessThan(40);
      await expect.poll(() => details.locator('.state-chip').textContent()).toBe(block.state);
    }
    // A state change reaches the painted bytes: one unit in the done block fails; its pixel turns red
    // (a failure wins a pixel shared with other units) and its details follow.
    const [x, y] = await pageValue<[number, number]>(page, pointOf(11 + 0.205, 50.205));
    expect(await canvasColourAt(page, x, y)).toEqual(rgb('done'));
    await pageValue(page, `window.harness.emit({ type: 'tile-state', job: 'demo', tile: 'g20_20', state: 'failed', attempt: 2, at: '2026-01-02T04:00:00.000Z' })`);
    await expect.poll(() => canvasColourAt(page, x, y), { timeout: 10_000 }).toEqual(rgb('failed'));
    // A pixel holds several units at this zoom: the tile search finds that one (an exact id selects it).
    await page.getByTestId('tile-search').fill('g20_20');
    await expect.poll(() => details.getByTestId('tile-details-id').textContent()).toBe('g20_20');
    await expect.poll(() => details.locator('.state-chip').textContent()).toBe('failed');
    expect(problems).toEqual([]);
  }, 120_000);
});
