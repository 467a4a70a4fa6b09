import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBrowser } from '../helpers/browser';
import { buildHarness, legendCounts, openPage, pageValue } from './helpers';

/**
 * The tile layer's aggregated raster (docs/previews.md#a-million-units): 160,009 tiles opened on all of
 * them are drawn as a raster — failed tiles red in it — and as paths once zoomed in.
 */
const browser = useBrowser();
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-raster-'));
  await buildHarness(dir, { production: true });
}, 60_000);
afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const mode = `document.querySelector('.leaflet-tiles-pane canvas').dataset.mode`;
/** Red pixels on the tiles' canvas (failed tiles: fill #ef4444-ish). */
const redPixels = `(() => {
  const c = document.querySelector('.leaflet-tiles-pane canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] > 180 && d[i + 1] < 110 && d[i + 2] < 110) n++;
  return n;
})()`;

describe('many tiles at low zoom (Chromium)', () => {
  it('draws a raster with the failed tiles in it, and paths once zoomed in', async () => {
    const { page, problems } = await openPage(browser, `${pathToFileURL(join(dir, 'harness.html')).href}?grid=400&fit=grid`);
    await expect.poll(async () => Object.values(await legendCounts(page)).reduce((a, b) => a + b, 0), { timeout: 60_000 }).toBe(160_009);
    await expect.poll(() => pageValue<string>(page, mode), { timeout: 20_000 }).toBe('raster');
    await expect.poll(() => pageValue<number>(page, redPixels), { timeout: 20_000 }).toBeGreaterThan(1000);
    // Leaflet ignores a zoom click during the previous zoom's animation: one at a time, each awaited (the map's zoom level in its classes).
    for (let k = 0; k < 4; k++) {
      const zoom = () => pageValue<number>(page, `Number(document.querySelector('.leaflet-tiles-pane canvas').dataset.zoom)`);
      const before = await zoom();
      await page.locator('.leaflet-control-zoom-in').dispatchEvent('click');
      await expect.poll(zoom, { timeout: 10_000 }).toBe(before + 1);
    }
    await expect.poll(() => pageValue<string>(page, mode), { timeout: 20_000 }).toBe('paths');
    expect(problems).toEqual([]);
  }, 120_000);
});
