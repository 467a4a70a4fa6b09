import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { legendCounts, openPage, screenshotPath, until } from './helpers';
import { fillJobPlaces, openWizardByKeyboard, pickForestGrid, TWO_LAYERS_GPKG as GPKG, useWizardServe } from './wizard-steps';

/**
 * Direct download in the dashboard (docs/direct-download.md): the wizard offers the mode with the
 * per-request size rule next to the tile size, writes the choice into the job file, and a finished tile's
 * details say how it came.
 */
const { emu, browser, served } = useWizardServe();
const COMPUTE = 'POST /v1/projects/{project}/image:computePixels';

describe('mode in the wizard and the tile details (tessera serve, Chromium, emulator)', () => {
  it('writes "mode": "direct", explains the size rule, and the tile details say "direct"', { timeout: 150_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-wizard-direct-'));
    const { page, problems } = await openPage(browser, served.url);
    const wizard = await openWizardByKeyboard(page);
    await page.getByLabel('ROI file (GeoPackage or GeoJSON, full path)').fill(GPKG);
    const tiles = await pickForestGrid(page);

    // The size rule next to the tile size: the built-in image (2 × Float32) fits up to 2243 px per request.
    const note = page.getByTestId('wizard-mode-note');
    await expect.poll(() => note.textContent()).toContain('48 MiB');
    expect(await note.textContent()).toContain('tiles up to 2243 px fit');
    expect(await note.textContent()).toMatch(/A 500 px tile \(~[\d.]+ [KM]i?B\) is one request/);
    await page.getByLabel('Tile size (pixels)').fill('4096');
    await expect.poll(() => note.textContent()).toMatch(/A 4096 px tile \(~[\d.]+ MiB\) is split into 4 requests before sending in direct or auto mode/);
    await page.getByLabel('Tile size (pixels)').fill('500');
    await expect.poll(() => page.getByTestId('wizard-estimate').textContent(), { timeout: 15_000 }).toMatch(/^\d+ tiles · 250,?000 px/);

    expect(await page.getByTestId('wizard-mode').inputValue()).toBe('export');
    await page.getByTestId('wizard-mode').selectOption('direct');
    await fillJobPlaces(page, 'wizdirect', join(dir, 'out'), join(dir, 'wizdirect.json'));
    await page.screenshot({ path: screenshotPath('wizard-direct.png') });
    const compute0 = emu.state().requests[COMPUTE] ?? 0;
    await page.getByTestId('wizard-create').click();
    await wizard.waitFor({ state: 'detached', timeout: 30_000 });

    const written = JSON.parse(readFileSync(join(dir, 'wizdirect.json'), 'utf8')) as Record<string, unknown>;
    expect(written.mode).toBe('direct');

    await page.getByTestId('job-tab-wizdirect').waitFor({ timeout: 30_000 });
    await until(async () => (await legendCounts(page)).done === tiles, 90_000, 250, 'every tile of the direct job done');
    expect(emu.state().requests[COMPUTE]! - compute0).toBe(tiles);

    // A tile's details say it came directly.
    const first = readdirSync(join(dir, 'out')).find((n) => n.endsWith('.tif'))!;
    const tileId = /^wizdirect_(.+)\.tif$/.exec(first)![1]!;
    await page.getByTestId('tile-search').fill(tileId);
    const details = page.getByTestId('tile-details');
    await expect.poll(() => details.getByTestId('tile-details-id').textContent()).toBe(tileId);
    await expect.poll(() => details.getByTestId('tile-via').textContent()).toContain('direct');
    expect(problems).toEqual([]);
  });
});
