import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { pageValue, screenshotPath } from './helpers';
import { HARNESS_AT as AT, useHarnessPage } from './harness-page';

/**
 * The everyday dashboard: the log follows every tile, failed tiles are retried at once, a finished job
 * says where its results are, the search brings a tile into view, the wizard fills in where the job goes.
 * The real renderer in Chromium over the in-process transport (harness/harness.tsx: a 3 × 3 job).
 */
let page: Page;
let problems: string[];
const { emit } = useHarnessPage((opened) => ({ page, problems } = opened));

describe('the everyday dashboard (Chromium)', () => {
  it('the log panel streams every tile transition and error, in a bounded list', async () => {
    await emit({ type: 'tile-state', job: 'demo', tile: 'x0_y1', state: 'exported', attempt: 1, at: AT });
    await emit({ type: 'tile-state', job: 'demo', tile: 'x0_y1', state: 'downloading', attempt: 1, at: AT });
    await emit({ type: 'tile-state', job: 'demo', tile: 'x2_y1', state: 'failed', attempt: 1, message: 'User memory limit exceeded.', at: AT });
    const lines = page.getByTestId('log-lines');
    await expect.poll(() => lines.textContent()).toContain('x2_y1 failed');
    const text = (await lines.textContent())!;
    expect(text).toContain('x0_y1 downloading');
    expect(text).toContain('x2_y1 failed: User memory limit exceeded.');
    for (let k = 0; k < 300; k++) await emit({ type: 'tile-state', job: 'demo', tile: 'x0_y2', state: k % 2 ? 'queued' : 'pending', attempt: 1, at: AT });
    await expect.poll(() => page.locator('[data-testid="log-lines"] li').count()).toBeLessThanOrEqual(60);
    expect(problems).toEqual([]);
  });

  it('"Retry all failed" sends one command for every failed tile', async () => {
    await page.getByTestId('job-retry-failed').click();
    const commands = await pageValue<{ type: string; job: string }[]>(page, 'window.harness.commands');
    expect(commands).toContainEqual({ type: 'retry-failed', job: 'demo' });
    expect(problems).toEqual([]);
  });

  it('a finished job shows its mosaic, summary and folder', async () => {
    await pageValue(page, `window.harness.setSummary({ running: false, outcome: { exitCode: 0, message: null }, results: { folder: '/data/demo/out', mosaic: '/data/demo/out/demo.vrt', summary: '/data/demo/out/demo.summary.txt' } })`);
    await emit({ type: 'tile-state', job: 'demo', tile: 'x0_y1', state: 'done', attempt: 1, at: AT });
    const results = page.getByTestId('job-results');
    await expect.poll(() => results.count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('job-result-mosaic').textContent()).toContain('/data/demo/out/demo.vrt');
    expect(await page.getByTestId('job-result-summary').textContent()).toContain('/data/demo/out/demo.summary.txt');
    expect(await page.getByTestId('job-result-folder').textContent()).toContain('/data/demo/out');
    await page.screenshot({ path: screenshotPath('finished-job.png') });
    expect(problems).toEqual([]);
  });

  it('the tile search pans the map to the tile found', async () => {
    const map = page.getByTestId('tile-map');
    await expect.poll(() => map.getAttribute('data-center')).not.toBe('');
    // The job's tiles span 10–10.3 °E, 50–50.3 °N; x2_y2 is the north-east one (centre 10.25, 50.25).
    await page.getByTestId('tile-search').fill('x2_y2');
    await expect
      .poll(async () => {
        const [lat, lon] = ((await map.getAttribute('data-center')) ?? '0,0').split(',').map(Number);
        return Math.abs(lat! - 50.25) < 0.02 && Math.abs(lon! - 10.25) < 0.02;
      })
      .toBe(true);
    expect(problems).toEqual([]);
  });

  it('the wizard defaults the job file beside the ROI and the output folder after the job', async () => {
    await page.getByRole('button', { name: /new job/i }).click();
    await page.getByTestId('wizard-name').fill('bavaria');
    await page.getByTestId('wizard-roi').fill('/data/areas/bavaria.gpkg');
    await expect.poll(() => page.getByTestId('wizard-file').inputValue()).toBe('/data/areas/bavaria.json');
    expect(await page.getByTestId('wizard-output').inputValue()).toBe('bavaria-output');
    // What the user types stays.
    await page.getByTestId('wizard-output').fill('/mnt/big/out');
    await page.getByTestId('wizard-name').fill('bavaria2');
    await expect.poll(() => page.getByTestId('wizard-file').inputValue()).toBe('/data/areas/bavaria2.json');
    expect(await page.getByTestId('wizard-output').inputValue()).toBe('/mnt/big/out');
    expect(problems).toEqual([]);
  });

  it('the wizard estimates from the recipe: s2-median asks for 4 Float64 bands and names export.dataType', async () => {
    await page.getByRole('button', { name: /new job/i }).click();
    await page.getByTestId('wizard-name').fill('s2');
    await page.getByTestId('wizard-roi').fill('/data/areas/bavaria.gpkg');
    await page.getByTestId('wizard-recipe').selectOption('s2-median');
    await expect
      .poll(async () => {
        const calls = await pageValue<{ kind: string; input: { bands?: number; dataType?: string } }[]>(page, 'window.harness.wizardCalls');
        return calls.filter((c) => c.kind === 'preview').at(-1)?.input;
      }, { timeout: 5000 })
      .toMatchObject({ bands: 4, dataType: 'Float64' });
    await expect.poll(() => page.getByTestId('wizard-float64').textContent()).toContain('export.dataType');
    expect(await page.getByTestId('wizard-estimate').textContent()).toContain('4 bands Float64');
    expect(problems).toEqual([]);
  });
});
