import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGeoTiff } from '../../main/emulator/geotiff/writer';
import { renderQuicklook, type Stretch } from '../../main/core/preview';
import { REPO } from '../helpers/cli';
import { buildHarness, launchBrowser, legendCounts, openPage, pageValue, screenshotPath } from './helpers';

/**
 * The docs' pictures of these views are these screenshots. They are copied into docs/images only when
 * asked (TESSERA_DOC_IMAGES=1, docs/CONTRIBUTING.md): a test run must not rewrite tracked files.
 */
function toDocs(screenshot: string, image: string): void {
  if (process.env.TESSERA_DOC_IMAGES !== '1') return;
  mkdirSync(join(REPO, 'docs', 'images'), { recursive: true });
  copyFileSync(screenshotPath(screenshot), join(REPO, 'docs', 'images', image));
}

/**
 * A finished 3-period job in the real renderer (Chromium, the harness's in-process host with `?periods=3`:
 * 9 tiles × 2021, 2022, 2023, all done). Its quicklooks are made here by the engine's quicklook code from
 * real GeoTIFFs (the emulator's writer: RGB, a nodata corner) and answered by the host's `preview` channel.
 */
const PERIODS = ['2021', '2022', '2023'];
const TILES = ['x0_y0', 'x1_y0', 'x2_y0', 'x0_y1', 'x1_y1', 'x2_y1', 'x0_y2', 'x1_y2', 'x2_y2'];
const SIDE = 96;
/** The page shares two cores with other test runs: give its updates time. */
const SLOW = { timeout: 10_000 };

let dir: string;
let browser: Browser;
let page: Page;
let problems: string[];
const pngs: Record<string, string> = {};

/** One tile's GeoTIFF in EPSG:4326 over the harness tile's 0.1° square: a smooth RGB field, greener each year; the south-west corner of the job is nodata. */
async function tileTiff(path: string, tile: string, year: number): Promise<void> {
  const [i, j] = [Number(tile[1]), Number(tile[4])];
  const [w, n] = [10 + i * 0.1, 50 + (j + 1) * 0.1];
  const k = year - 2021;
  await writeGeoTiff(
    path,
    {
      width: SIDE, height: SIDE, crs: 'EPSG:4326', crsTransform: [0.1 / SIDE, 0, w, 0, -0.1 / SIDE, n], noData: 0,
      bands: [{ name: 'r', dataType: 'UInt16' }, { name: 'g', dataType: 'UInt16' }, { name: 'b', dataType: 'UInt16' }],
    },
    (band, lon, lat) => {
      if (lon < 10.08 && lat < 50.08) return 0;
      // Fields and meadows: waves short enough that every tile (the first one sets the stretch) spans their range.
      const u = (lon - 10) / 0.3;
      const v = (lat - 50) / 0.3;
      const fields = Math.sin(u * 31 + 2 * Math.sin(v * 13)) * 0.5 + 0.5;
      const meadow = Math.cos(v * 27 + 1.5 * Math.sin(u * 19)) * 0.5 + 0.5;
      const green = 0.35 + 0.3 * meadow + 0.15 * k;
      return Math.round(1000 * (band === 0 ? 0.25 + 0.35 * fields * (1 - 0.3 * k) : band === 1 ? green : 0.2 + 0.25 * fields * meadow));
    },
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-periods-'));
  // The quicklooks, as the engine makes them: one stretch for the job (the first unit's), kept for the others.
  let stretch: Stretch | undefined;
  for (const p of PERIODS) {
    for (const t of TILES) {
      const path = join(dir, `${p}_${t}.tif`);
      await tileTiff(path, t, Number(p));
      const look = await renderQuicklook([path], undefined, stretch);
      stretch ??= look.stretch;
      pngs[`${p}@${t}`] = Buffer.from(look.png).toString('base64');
    }
  }
  await buildHarness(dir);
  browser = await launchBrowser();
  ({ page, problems } = await openPage(browser, `${pathToFileURL(join(dir, 'harness.html')).href}?periods=3`));
  await page.waitForSelector('[data-testid="legend-done-count"]', { timeout: 15_000 });
  await pageValue(page, `window.harness.setPreviews(${JSON.stringify(pngs)})`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a finished 3-period job on the dashboard', () => {
  it('the period selector lists all periods then each period; legend, progress and map follow, by keyboard too', async () => {
    const select = page.getByTestId('period-select');
    const options = await pageValue<[string, string][]>(page, `[...document.querySelectorAll('[data-testid="period-select"] option')].map((o) => [o.value, o.textContent])`);
    expect(options.map(([v]) => v)).toEqual(['', ...PERIODS]);
    expect(options[0]![1]).toBe('All 3 periods');
    expect(options[1]![1]).toBe('2021 — 9 of 9 done');
    expect((await legendCounts(page)).done).toBe(27);
    expect(await page.getByTestId('job-progress').textContent()).toContain('27 / 27 tiles done');
    expect(await page.getByTestId('tile-map').getAttribute('data-tiles')).toBe('9');

    // A period's units go back in the harness's host; the legend and progress count that period only.
    await pageValue(page, `window.harness.emit({ type: 'tile-state', job: 'demo', tile: '2022@x1_y1', state: 'failed', attempt: 2, at: '2026-01-02T04:00:00.000Z' })`);
    await select.focus();
    // Two keys pressed faster than a frame: the second starts from the first one's choice, none is lost.
    // (What the select does on ArrowDown, twice in one task: the worst case of a fast typist on a busy page.)
    const fast = await pageValue<string>(page, `(() => {
      const s = document.querySelector('[data-testid="period-select"]');
      for (let i = 0; i < 2; i++) { s.selectedIndex += 1; s.dispatchEvent(new Event('change', { bubbles: true })); }
      return s.value;
    })()`);
    expect(fast).toBe('2022');
    await select.selectOption('');
    await select.focus();
    await page.keyboard.press('ArrowDown'); // 2021
    await page.keyboard.press('ArrowDown'); // 2022
    await expect.poll(() => select.inputValue(), SLOW).toBe('2022');
    await expect.poll(async () => (await legendCounts(page)).failed, SLOW).toBe(1);
    expect((await legendCounts(page)).done).toBe(8);
    expect(await page.getByTestId('job-progress').textContent()).toContain('8 / 9 tiles done');
    await select.selectOption('2021');
    await expect.poll(async () => (await legendCounts(page)).done, SLOW).toBe(9);
    expect((await legendCounts(page)).failed).toBe(0);

    // All periods: a tile takes the state of its least advanced unit; its details list its periods.
    await select.selectOption('');
    await expect.poll(async () => (await legendCounts(page)).failed, SLOW).toBe(1);
    const box = (await page.getByTestId('tile-map').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => page.getByTestId('tile-details-id').textContent(), SLOW).toBe('2022@x1_y1');
    expect(await page.locator('.unit-periods button').allTextContents()).toEqual(PERIODS);
    // Choosing a period keeps the same tile in the details.
    await select.selectOption('2023');
    await expect.poll(() => page.getByTestId('tile-details-id').textContent(), SLOW).toBe('2023@x1_y1');
    await pageValue(page, `window.harness.emit({ type: 'tile-state', job: 'demo', tile: '2022@x1_y1', state: 'done', attempt: 2, at: '2026-01-02T05:00:00.000Z' })`);
    expect(problems).toEqual([]);
  });

  it('the preview layer draws the quicklooks fetched from the preview route; a tile’s details show its own', async () => {
    await page.getByTestId('period-select').selectOption('2023');
    const toggle = page.getByTestId('preview-toggle');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    await expect.poll(() => page.getByTestId('tile-map').getAttribute('data-preview-images'), { timeout: 10_000 }).toBe('9');
    const images = await pageValue<{ src: string; w: number; alt: string }[]>(page, `[...document.querySelectorAll('img.result-preview')].map((e) => ({ src: e.src.slice(0, 22), w: e.naturalWidth, alt: e.alt }))`);
    expect(images).toHaveLength(9);
    expect(images.every((i) => i.src === 'data:image/png;base64,' && i.w === SIDE)).toBe(true);
    expect(images.map((i) => i.alt.replace('quicklook of ', '')).sort()).toEqual(TILES.map((t) => `2023@${t}`).sort());
    const asked = await pageValue<string[]>(page, 'window.harness.previewCalls');
    expect(new Set(asked.filter((u) => u.startsWith('2023@')))).toEqual(new Set(TILES.map((t) => `2023@${t}`)));
    // Another period: its own quicklooks replace them.
    await page.getByTestId('period-select').selectOption('2021');
    await expect.poll(async () => (await pageValue<string[]>(page, `[...document.querySelectorAll('img.result-preview')].map((e) => e.alt)`)).every((a) => a.includes('2021@')), SLOW).toBe(true);
    await expect.poll(() => page.locator('img.result-preview').count(), SLOW).toBe(9);
    const details = page.getByTestId('tile-preview');
    await expect.poll(() => details.count(), SLOW).toBe(1);
    expect(await details.getAttribute('alt')).toBe('Quicklook of 2021@x1_y1');
    await page.screenshot({ path: screenshotPath('periods-preview.png') });
    toDocs('periods-preview.png', 'result-previews.png');
    expect(problems).toEqual([]);
  });

  it('the per-period chart renders (uPlot canvases) with done units per period', async () => {
    const chart = page.getByTestId('period-chart');
    await expect.poll(() => chart.locator('canvas').count(), SLOW).toBe(2);
    expect(await page.getByTestId('period-chart-periods').getAttribute('aria-label')).toBe('Done units per period: 2021 9, 2022 9, 2023 9');
    // The bars are drawn: the canvas has green pixels.
    const green = await pageValue<number>(page, `(() => {
      const c = document.querySelector('[data-testid="period-chart-periods"] canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 1] > d[i] + 40 && d[i + 1] > d[i + 2] + 40) n++;
      return n;
    })()`);
    expect(green).toBeGreaterThan(200);
    await chart.screenshot({ path: screenshotPath('period-chart.png') });
    toDocs('period-chart.png', 'period-chart.png');
    // For the picture: the last period still under way, so that "all periods" shows each tile's least advanced unit.
    const at = '2026-01-02T06:00:00.000Z';
    const under = { x0_y0: 'running', x1_y0: 'queued', x2_y0: 'downloading', x0_y1: 'pending', x1_y1: 'retrying', x2_y1: 'exported' } as const;
    for (const [t, state] of Object.entries(under)) await pageValue(page, `window.harness.emit(${JSON.stringify({ type: 'tile-state', job: 'demo', tile: `2023@${t}`, state, attempt: 1, at })})`);
    await page.getByTestId('preview-toggle').click();
    await page.getByTestId('period-select').selectOption('');
    await expect.poll(async () => (await legendCounts(page)).running, SLOW).toBe(1);
    await page.getByTestId('period-select').focus();
    await page.screenshot({ path: screenshotPath('periods-selector.png') });
    toDocs('periods-selector.png', 'period-selector.png');
    expect(problems).toEqual([]);
  });
});
