import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import type { DashboardSnapshot } from '../../shared/dashboard';
import { REPO } from '../helpers/cli';
import { legendCounts, launchBrowser, openPage, pageValue, screenshotPath, serve, until, type Served } from './helpers';

/**
 * The jobs list with `tessera serve` against the emulator: every job with its state and progress; Open
 * switches the map, progress and details to that job; Pause, Resume, and Cancel after a confirmation go
 * through the contract's commands.
 */
let emu: EmulatorHandle;
let browser: Browser;
let served: Served;
let page: Page;
let problems: string[];
let dir: string;

const GPKG = join(REPO, 'test', '.fixtures', 'two_layers.gpkg');

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 1000, slots: 2 });
  browser = await launchBrowser();
  dir = mkdtempSync(join(tmpdir(), 'tessera-jobs-'));
  served = await serve(['--emulator', emu.url, '--data', join(dir, 'data')]);
  ({ page, problems } = await openPage(browser, served.url));
});

afterAll(async () => {
  await served?.stop(5_000);
  await browser?.close();
  await emu?.stop();
});

const post = async (path: string, body: unknown) => {
  const r = await fetch(`${served.origin}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${served.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<unknown>;
};
const snapshot = async () => (await (await fetch(`${served.origin}/api/snapshot`, { headers: { Authorization: `Bearer ${served.token}` } })).json()) as DashboardSnapshot;
const newJob = (name: string, layer: string, tilePixels: number, maxInFlight = 4, start = true) =>
  post('/api/wizard/jobs', {
    file: join(dir, `${name}.json`), start,
    job: { name, roi: { path: GPKG, layer }, grid: { crs: 'EPSG:3035', scale: 100, tilePixels }, drive: { folder: `tessera-${name}` }, output: join(dir, `out-${name}`), maxInFlight },
  });
const state = (name: string) => page.getByTestId(`jobs-state-${name}`).textContent();

describe('the jobs list (tessera serve, Chromium, emulator)', () => {
  it('lists every job with its state and progress; Open switches the map, progress and details; details close', { timeout: 120_000 }, async () => {
    await newJob('alpha', 'forest', 500);
    await newJob('beta', 'fields', 500);
    await page.getByTestId('jobs-row-beta').waitFor({ timeout: 30_000 });
    await until(async () => (await state('alpha')) === 'finished' && (await state('beta')) === 'finished', 90_000, 200, 'both jobs finished');
    const snap = await snapshot();
    const tilesOf = (name: string) => snap.jobs.find((j) => j.name === name)!.tiles.map((t) => t.id);
    const [alpha, beta] = [tilesOf('alpha'), tilesOf('beta')];
    expect(await page.getByTestId('jobs-done-alpha').textContent()).toBe(`${alpha.length}/${alpha.length}`);
    expect(await page.getByRole('progressbar', { name: 'beta progress' }).getAttribute('aria-valuetext')).toBe(`${beta.length} of ${beta.length} tiles done`);

    await page.getByTestId('jobs-open-alpha').click();
    await expect.poll(() => page.getByTestId('tile-map').getAttribute('data-job')).toBe('alpha');
    expect(await page.getByTestId('tile-map').getAttribute('data-tiles')).toBe(String(alpha.length));
    expect(await page.getByTestId('job-progress').getAttribute('aria-label')).toBe('Progress of alpha');
    expect(await page.getByTestId('jobs-open-alpha').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('tile-search').fill(alpha[0]!);
    await page.getByTestId('tile-search').press('Enter');
    await expect.poll(() => page.getByTestId('tile-details-id').textContent()).toBe(alpha[0]);

    // The other job: the map, the progress header and the legend follow; the first job's tile details go.
    await page.getByTestId('jobs-open-beta').click();
    await expect.poll(() => page.getByTestId('tile-map').getAttribute('data-job')).toBe('beta');
    expect(await page.getByTestId('tile-map').getAttribute('data-tiles')).toBe(String(beta.length));
    expect(await page.getByTestId('job-progress').getAttribute('aria-label')).toBe('Progress of beta');
    expect((await legendCounts(page)).done).toBe(beta.length);
    expect(await page.getByTestId('tile-details').count()).toBe(0);
    await page.getByTestId('tile-search').fill(beta[1]!);
    await page.getByTestId('tile-search').press('Enter');
    await expect.poll(() => page.getByTestId('tile-details-id').textContent()).toBe(beta[1]);
    await page.waitForTimeout(600); // the map's zoom animation, for the screenshot
    await page.screenshot({ path: screenshotPath('jobs-switch.png') });
    await page.getByRole('button', { name: 'Close the details' }).click();
    await expect.poll(() => page.getByTestId('tile-details').count()).toBe(0);
    // And back.
    await page.getByTestId('jobs-open-alpha').click();
    await expect.poll(() => page.getByTestId('tile-map').getAttribute('data-job')).toBe('alpha');
    expect(await page.getByTestId('tile-map').getAttribute('data-tiles')).toBe(String(alpha.length));
  });

  it('pauses, resumes, and cancels a running job after asking', { timeout: 120_000 }, async () => {
    // Many small tiles, one export at a time: it runs long enough to be paused and cancelled.
    await newJob('long', 'fields', 100, 1);
    await page.getByTestId('jobs-row-long').waitFor({ timeout: 30_000 });
    await until(async () => /^(running|waiting)/.test((await state('long')) ?? ''), 30_000, 100, 'the long job running');
    await page.getByTestId('jobs-pause-long').click();
    await expect.poll(() => state('long'), { timeout: 30_000 }).toBe('paused');
    await page.getByTestId('jobs-resume-long').click();
    await expect.poll(() => state('long'), { timeout: 30_000 }).not.toBe('paused');

    // Cancel asks first, in place, with the focus on the question's answer; "Keep it" changes nothing.
    await page.getByTestId('jobs-cancel-long').click();
    const confirm = page.getByRole('alertdialog', { name: 'Cancel long?' });
    await confirm.waitFor();
    expect(await pageValue<string>(page, `document.activeElement.getAttribute('data-testid')`)).toBe('jobs-cancel-confirm-long');
    await page.screenshot({ path: screenshotPath('jobs-cancel-confirm.png') });
    await page.getByTestId('jobs-cancel-keep-long').click();
    await confirm.waitFor({ state: 'detached' });
    expect(await state('long')).toMatch(/^(running|waiting)/);
    await page.getByTestId('jobs-cancel-long').click();
    await page.getByTestId('jobs-cancel-confirm-long').click();
    await expect.poll(() => state('long'), { timeout: 60_000 }).toBe('cancelled');
    expect(await page.getByTestId('jobs-start-long').count()).toBe(0);
    await page.getByTestId('jobs-open-long').click();
    await expect.poll(async () => (await legendCounts(page)).cancelled, { timeout: 30_000 }).toBeGreaterThan(0);
    const counts = await legendCounts(page);
    expect(counts.done).toBeLessThan(Object.values(counts).reduce((a, b) => a + b, 0) - (counts.split ?? 0));
    await page.screenshot({ path: screenshotPath('jobs-cancelled.png') });
    expect(problems).toEqual([]);
  });
});
