import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { pageValue, screenshotPath } from './helpers';
import { HARNESS_AT as AT, useHarnessPage } from './harness-page';

/**
 * Keyboard and assistive-technology checks of the dashboard (no axe offline: targeted checks instead):
 * roles and accessible names, the Tab order, Escape, the log's filters. Same harness as components.test.ts.
 */
let page: Page;
let problems: string[];
const { emit } = useHarnessPage((opened) => ({ page, problems } = opened));

/** What has the focus: its test id, or role + accessible name, or tag. */
const focused = () =>
  pageValue<string>(
    page,
    `(() => { const el = document.activeElement; if (!el || el === document.body) return 'body';
      return el.getAttribute('data-testid') || ((el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40)) || el.tagName; })()`,
  );

async function tabUntil(target: string, max = 60): Promise<string[]> {
  const seen: string[] = [];
  for (let k = 0; k < max; k++) {
    await page.keyboard.press('Tab');
    const f = await focused();
    seen.push(f);
    if (f === target || f.startsWith(target)) return seen;
  }
  throw new Error(`Tab never reached ${target}; went through ${seen.join(' → ')}`);
}

describe('dashboard accessibility (Chromium)', () => {
  it('roles and names: meter, progress bar, legend buttons, search, job tab, log', async () => {
    expect(await page.getByRole('meter').getAttribute('aria-valuetext')).toBe('9.8 GiB of 15 GiB');
    const bar = page.getByRole('progressbar', { name: 'Tiles done' });
    expect(await bar.getAttribute('aria-valuenow')).toBe('3');
    expect(await bar.getAttribute('aria-valuemax')).toBe('9');
    expect(await bar.getAttribute('aria-valuetext')).toBe('3 of 9 tiles done, 1 failed');
    expect(await page.getByRole('button', { name: 'failed: 1 tiles, show one' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'submitting: 0 tiles' }).isDisabled()).toBe(true);
    expect(await page.getByRole('searchbox', { name: 'Find a tile by id' }).count()).toBe(1);
    expect(await page.getByTestId('job-tab-demo').getAttribute('aria-label')).toBe('demo: running, 3 of 9 tiles done, 1 failed');
    expect(await page.getByRole('log', { name: 'Messages, newest first' }).count()).toBe(1);
    expect(await page.getByLabel('Level').count()).toBe(1);
    expect(await page.getByLabel('Tile or text').count()).toBe(1);
    // Every input and button has a name.
    const unnamed = await pageValue<string[]>(
      page,
      `[...document.querySelectorAll('button, input, select')].filter((el) => {
        const label = el.id && document.querySelector('label[for="' + el.id + '"]');
        return !(el.getAttribute('aria-label') || (el.textContent || '').trim() || label || el.getAttribute('title'));
      }).map((el) => el.outerHTML.slice(0, 80))`,
    );
    expect(unnamed).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('Tab order: job, controls, map, legend, search, log; the legend opens a tile by keyboard; Escape closes it', async () => {
    const order = await tabUntil('log-copy');
    const at = (name: string) => order.findIndex((f) => f === name || f.startsWith(name));
    for (const name of ['job-tab-demo', 'Pause', 'job-cancel', 'tile-map', 'failed: 1 tiles', 'tile-search', 'log-level', 'log-filter', 'log-copy']) expect(at(name), `${name} in ${order.join(' → ')}`).toBeGreaterThanOrEqual(0);
    expect(at('job-tab-demo')).toBeLessThan(at('Pause'));
    expect(at('Pause')).toBeLessThan(at('tile-map'));
    expect(at('tile-map')).toBeLessThan(at('failed: 1 tiles'));
    expect(at('failed: 1 tiles')).toBeLessThan(at('tile-search'));
    expect(at('tile-search')).toBeLessThan(at('log-level'));

    // Focus is visible: an outline on the focused legend button.
    await page.getByRole('button', { name: 'failed: 1 tiles, show one' }).focus();
    expect(await pageValue<string>(page, `getComputedStyle(document.activeElement).outlineStyle`)).toBe('solid');
    await page.keyboard.press('Enter');
    const details = page.getByTestId('tile-details');
    await expect.poll(() => details.getByTestId('tile-details-id').textContent()).toBe('x1_y1');
    // Into the details by Tab: the retry button is reachable.
    await tabUntil('tile-retry');
    await page.screenshot({ path: screenshotPath('a11y-focus.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => details.count()).toBe(0);
    expect(await focused()).toBe('tile-search');
    expect(problems).toEqual([]);
  });

  it('log: filter by level and by tile; copy says what it did', async () => {
    await emit({ type: 'log', job: 'demo', level: 'info', message: 'x0_y2 submitted', at: AT });
    await emit({ type: 'log', job: 'demo', level: 'warn', message: 'x2_y2 retrying: Internal error', at: AT });
    await emit({ type: 'log', job: 'demo', level: 'error', message: 'x1_y1 failed: User memory limit exceeded.', at: AT });
    const lines = page.getByTestId('log-lines').locator('li');
    await expect.poll(() => lines.count()).toBe(4);
    await page.getByTestId('log-level').selectOption('warn');
    await expect.poll(() => lines.count()).toBe(2);
    await page.getByTestId('log-filter').fill('x1_y1');
    await expect.poll(() => lines.count()).toBe(1);
    expect(await lines.first().textContent()).toContain('User memory limit exceeded.');
    await page.getByTestId('log-copy').click();
    await expect.poll(() => page.locator('.log-filters [role="status"]').textContent()).not.toBe('');
    await page.getByTestId('log-filter').fill('nothing-like-this');
    await expect.poll(() => page.locator('.log').textContent()).toContain('No line matches.');
    expect(problems).toEqual([]);
  });

  it('wizard: a dialog with labelled fields, the preset form from its zod schema, errors next to fields, Escape', async () => {
    await page.getByTestId('new-job').click();
    const wizard = page.getByRole('dialog', { name: 'New job' });
    await wizard.waitFor();
    expect(await focused()).toBe('wizard-name');
    await page.getByLabel('ROI file (GeoPackage or GeoJSON, full path)').fill('/data/area.gpkg');
    await expect.poll(() => page.getByTestId('wizard-estimate').textContent()).toContain('12 tiles');
    expect(await page.getByTestId('wizard-layer').locator('option').count()).toBe(2);
    // The preset's parameters, rendered from S2MedianParams: required dates, defaults filled in, enums as selects.
    await page.getByTestId('wizard-recipe').selectOption('s2-median');
    expect(await page.getByTestId('wizard-param-bands').inputValue()).toBe('B2, B3, B4, B8');
    expect(await page.getByTestId('wizard-param-maxCloudPercent').inputValue()).toBe('30');
    await page.getByLabel('start *').fill('2024-06-01');
    await page.getByLabel('end *').fill('2024-05-01');
    for (const [label, value] of [['Job name', 'made'], ['Local folder for the outputs', '/data/out'], ['Save the job file as', '/data/made.json']]) await page.getByLabel(label!).fill(value!);
    await page.getByTestId('wizard-create').click();
    await expect.poll(() => page.getByTestId('wizard-params-error').textContent()).toContain('start must be before end');
    expect((await pageValue<{ kind: string }[]>(page, 'window.harness.wizardCalls')).filter((c) => c.kind === 'create')).toEqual([]);
    await page.getByLabel('end *').fill('2024-09-01');
    await page.getByTestId('wizard-create').click();
    await wizard.waitFor({ state: 'detached' });
    const created = (await pageValue<{ kind: string; input: { job: unknown } }[]>(page, 'window.harness.wizardCalls')).filter((c) => c.kind === 'create');
    expect(created[0]!.input.job).toEqual({
      name: 'made', roi: { path: '/data/area.gpkg' }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 1000 },
      recipe: { preset: 's2-median', params: { start: '2024-06-01', end: '2024-09-01', bands: ['B2', 'B3', 'B4', 'B8'], maxCloudPercent: 30 } },
      drive: { folder: 'tessera' }, output: '/data/out', maxInFlight: 4,
    });
    // Escape closes it, and focus goes back to New job.
    await page.getByTestId('new-job').click();
    await wizard.waitFor();
    await page.keyboard.press('Escape');
    await wizard.waitFor({ state: 'detached' });
    expect(await focused()).toBe('new-job');
    expect(problems).toEqual([]);
  });
});
