import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { canvasColourAt, legendCounts, pageValue, screenshotPath } from './helpers';
import { HARNESS_AT as AT, useHarnessPage } from './harness-page';

/**
 * Component tests: the real renderer in real Chromium, over the in-process transport, fed by the scripted
 * host of harness/harness.tsx (a 3 × 3 job with one failed tile in the centre).
 */
let page: Page;
let problems: string[];
const { emit } = useHarnessPage((opened) => ({ page, problems } = opened));

describe('dashboard components (in-process transport, Chromium)', () => {
  it('legend: a bare count per state, following tile-state events; failed tiles stand out', async () => {
    expect(await legendCounts(page)).toEqual({
      pending: 2, submitting: 0, queued: 1, running: 1, exported: 0, downloading: 0, verified: 0, done: 3, retrying: 1, split: 0, failed: 1, cancelled: 0, skipped: 0,
    });
    expect(await page.getByTestId('legend-failed').getAttribute('class')).toContain('alarm');
    expect(await page.getByTestId('legend-done').getAttribute('class')).not.toContain('alarm');
    await emit({ type: 'tile-state', job: 'demo', tile: 'x0_y1', state: 'exported', attempt: 1, at: AT });
    await emit({ type: 'tile-state', job: 'demo', tile: 'x0_y1', state: 'done', attempt: 1, at: AT });
    await expect.poll(async () => (await legendCounts(page)).done).toBe(4);
    const c = await legendCounts(page);
    expect(c.running).toBe(0);
    expect(c.exported).toBe(0);
    expect(await page.getByTestId('job-progress').textContent()).toContain('4 / 9 tiles done');
    // The failed tile is red on the map (the canvas), its neighbours are not.
    const box = (await page.getByTestId('tile-map').boundingBox())!;
    const [r, g, b] = await canvasColourAt(page, box.x + box.width / 2, box.y + box.height / 2);
    expect([r > 180, g < 110, b < 110]).toEqual([true, true, true]);
    expect(problems).toEqual([]);
  });

  it('gauge: bytes as meter values, a readable label, and "unlimited" when Drive has no limit', async () => {
    const meter = page.getByRole('meter');
    const GIB = 1024 ** 3;
    expect(Number(await meter.getAttribute('aria-valuenow'))).toBe(Math.round(9.8 * GIB));
    expect(Number(await meter.getAttribute('aria-valuemax'))).toBe(15 * GIB);
    expect(await meter.getAttribute('aria-valuetext')).toBe('9.8 GiB of 15 GiB');
    expect(await page.locator('.gauge-label').textContent()).toBe('9.8 GiB of 15 GiB');
    const parts = (await page.locator('.gauge-parts').textContent())!;
    expect(parts).toContain('This job, waiting in Drive500 MiB · 2 files');
    expect(parts).toContain('Trash1 GiB');
    expect(parts).toContain('Free5.2 GiB');
    expect(parts).toContain('Reserve kept free1 GiB');
    expect(await page.locator('.meter .reserve-line').count()).toBe(1);
    await page.screenshot({ path: screenshotPath('components-limit.png') });

    await emit({ type: 'quota', job: 'demo', quota: { limit: null, usage: 123_456_789, usageInDrive: 123_456_789, usageInDriveTrash: 0, at: AT } });
    await expect.poll(() => meter.getAttribute('aria-valuetext')).toBe('unlimited');
    expect(await meter.getAttribute('aria-valuenow')).toBe('123456789');
    expect(await meter.getAttribute('aria-valuemax')).toBeNull();
    expect(await page.locator('.gauge-label').textContent()).toBe('118 MiB used · no limit');
    expect(await page.locator('.meter .reserve-line').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('progress header: done / total, EE, ETA, EECU and the waiting reason', async () => {
    const header = page.getByTestId('job-progress');
    const text = (await header.textContent())!;
    expect(text).toContain('3 / 9 tiles done');
    expect(text).toContain('1 running · 1 queued');
    expect(text).toContain('ETA60 min');
    expect(text).toContain('1.00 EECU-h used · ~3.00 EECU-h projected');
    const progress = await pageValue<{ progress: object }>(page, 'window.harness.summary()');
    await emit({ type: 'job-progress', progress: { ...progress.progress, waiting: 'quota' } });
    await expect.poll(() => header.getByTestId('job-waiting').textContent()).toContain('quota');
    expect(await header.getByTestId('job-status').textContent()).toBe('waiting: quota');
    expect(problems).toEqual([]);
  });

  it('details: search selects a tile; id, operation, MD5, history; retry and skip send commands', async () => {
    const details = page.getByTestId('tile-details');
    expect(await details.count()).toBe(0);
    await page.getByTestId('tile-search').fill('x2_y0');
    await expect.poll(() => details.getByTestId('tile-details-id').textContent()).toBe('x2_y0');
    await expect.poll(() => details.getByTestId('tile-operation').textContent()).toBe('projects/demo/operations/OP_X2_Y0');
    expect(await details.getByTestId('tile-files').textContent()).toContain('0123456789abcdef0123456789abx2y0');
    expect(await details.getByTestId('tile-files').textContent()).toContain('128 KiB');
    expect(await details.getByTestId('tile-history').textContent()).toMatch(/pending.*done/);
    expect(await details.getByTestId('tile-retry').isDisabled()).toBe(true);
    expect(await details.getByTestId('tile-skip').isDisabled()).toBe(true);

    // Enter takes the first id starting with the text; an unknown id says so.
    await page.getByTestId('tile-search').fill('zz');
    await page.getByTestId('tile-search').press('Enter');
    expect(await page.locator('.search-miss').textContent()).toBe('no such tile');

    // The search pans the map to the tile it finds: bring the failed centre tile to the middle, close its
    // details, then clicking the map's centre selects it again (spatial index); Retry sends the command.
    await page.getByTestId('tile-search').fill('x1_y1');
    await expect.poll(() => details.getByTestId('tile-details-id').textContent()).toBe('x1_y1');
    await page.keyboard.press('Escape');
    await expect.poll(() => details.count()).toBe(0);
    const box = (await page.getByTestId('tile-map').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => details.getByTestId('tile-details-id').textContent()).toBe('x1_y1');
    await expect.poll(() => details.getByTestId('tile-message').textContent()).toBe('User memory limit exceeded.');
    expect(await details.getAttribute('class')).toContain('failed');
    await details.getByTestId('tile-retry').click();
    await expect.poll(() => pageValue<unknown[]>(page, 'window.harness.commands')).toEqual([{ type: 'retry', job: 'demo', tiles: ['x1_y1'] }]);
    await expect.poll(async () => (await legendCounts(page)).failed).toBe(0);
    await expect.poll(() => details.locator('.state-chip').textContent()).toBe('pending');
    await details.getByTestId('tile-skip').click();
    await expect.poll(() => pageValue<unknown[]>(page, 'window.harness.commands.length')).toBe(2);
    expect((await pageValue<unknown[]>(page, 'window.harness.commands'))[1]).toEqual({ type: 'skip', job: 'demo', tiles: ['x1_y1'] });
    await expect.poll(async () => (await legendCounts(page)).skipped).toBe(1);
    await page.screenshot({ path: screenshotPath('components-details.png') });
    expect(problems).toEqual([]);
  });

  it('map: the tile canvas follows zoom and pan (redrawn, not stretched away)', async () => {
    const box = (await page.getByTestId('tile-map').boundingBox())!;
    const centre = () => canvasColourAt(page, box.x + box.width / 2, box.y + box.height / 2);
    await page.locator('.leaflet-control-zoom-in').click();
    await page.waitForTimeout(700);
    let [r, g, b] = await centre();
    expect([r > 180, g < 110, b < 110]).toEqual([true, true, true]);
    // Pan by keyboard (Leaflet's arrow keys) and back: the failed tile is still drawn where it belongs.
    await page.getByTestId('tile-map').focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForTimeout(400);
    await page.keyboard.press('ArrowLeft');
    await page.waitForTimeout(700);
    [r, g, b] = await centre();
    expect([r > 180, g < 110, b < 110]).toEqual([true, true, true]);
    expect(await pageValue<string>(page, `document.querySelector('.leaflet-tiles-pane canvas').dataset.tiles`)).toBe('9');
    await page.screenshot({ path: screenshotPath('components-zoomed.png') });
    expect(problems).toEqual([]);
  });
});
