import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NewJobRequestSchema } from '../../shared/dashboard';
import { legendCounts, openPage, pageValue, screenshotPath, until } from './helpers';
import { fillJobPlaces, openWizardByKeyboard, pickForestGrid, TWO_LAYERS_GPKG as GPKG, useWizardServe } from './wizard-steps';

/**
 * The job wizard end to end: `tessera serve` with no job, against the emulator; a job made in the
 * wizard from a GeoPackage with several layers (the layer offered), written, added, started and finished.
 */
const { browser, served } = useWizardServe();

describe('the job wizard (tessera serve, Chromium, emulator)', () => {
  it('creates a job from a GeoPackage layer without JSON, by keyboard too, and it runs to the end', { timeout: 150_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-wizard-'));
    const { page, problems } = await openPage(browser, served.url);
    const wizard = await openWizardByKeyboard(page);
    // The first field has the focus.
    expect(await pageValue<string>(page, `document.activeElement.getAttribute('data-testid')`)).toBe('wizard-name');

    await page.getByLabel('ROI file (GeoPackage or GeoJSON, full path)').fill(GPKG);
    // The layers of the GeoPackage are offered; the grid's tile count follows the choice.
    const tiles = await pickForestGrid(page);
    expect(tiles).toBeLessThan(40);

    // Keyboard only: Tab reaches every control of the wizard, in order.
    const controls = await pageValue<number>(page, `document.querySelectorAll('[data-testid="wizard"] input, [data-testid="wizard"] select, [data-testid="wizard"] button').length`);
    await page.getByTestId('wizard-name').focus();
    const reached = new Set<string>();
    for (let k = 0; k < controls - 1; k++) {
      await page.keyboard.press('Tab');
      reached.add(await pageValue<string>(page, `(() => { const el = document.activeElement; return el.closest('[data-testid="wizard"]') ? (el.id || el.textContent) : 'outside'; })()`));
    }
    expect(reached.has('outside')).toBe(false);
    expect(reached.size).toBe(controls - 1);

    // Errors sit next to their fields; nothing is written.
    await page.getByTestId('wizard-name').fill('bad_name');
    await page.getByTestId('wizard-create').click();
    await expect.poll(() => wizard.getByRole('alert').first().textContent()).toContain('letters, digits and -');
    expect(await page.getByTestId('wizard-name').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: screenshotPath('wizard-errors.png') });

    await fillJobPlaces(page, 'wiz', join(dir, 'out'), join(dir, 'wiz.json'));
    await page.getByTestId('wizard-create').click();
    await wizard.waitFor({ state: 'detached', timeout: 30_000 });

    // The job file of docs/job-file.md, as the wizard's schema has it.
    const written = JSON.parse(readFileSync(join(dir, 'wiz.json'), 'utf8')) as unknown;
    expect(NewJobRequestSchema.parse({ file: join(dir, 'wiz.json'), job: written }).job).toMatchObject({
      name: 'wiz', roi: { path: GPKG, layer: 'forest' }, grid: { crs: 'EPSG:3035', scale: 100, tilePixels: 500 }, drive: { folder: 'tessera-wiz' }, maxInFlight: 4,
    });
    // It is added, selected, and runs to the end.
    await page.getByTestId('job-tab-wiz').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('wizard-started.png') });
    await until(async () => (await legendCounts(page)).done === tiles, 90_000, 250, 'every tile of the wizard job done').catch(async (e: Error) => {
      await page.screenshot({ path: screenshotPath('wizard-stuck.png') });
      throw new Error(`${e.message}; legend ${JSON.stringify(await legendCounts(page))}; stdout ${served.stdout()}; stderr ${served.stderr()}`);
    });
    await until(() => /wiz: every tile done/.test(served.stdout()), 30_000, 100, 'the job to finish');
    expect(existsSync(join(dir, '.tessera', 'wiz'))).toBe(true);

    // The host checks again: invalid → 400 with one line; the same file again → 409; nothing overwritten.
    const post = (body: unknown) =>
      fetch(`${served.origin}/api/wizard/jobs`, { method: 'POST', headers: { Authorization: `Bearer ${served.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post({ file: join(dir, 'x.json'), job: { ...(written as object), name: 'no_underscores' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('job.name');
    const again = await post({ file: join(dir, 'wiz.json'), job: { ...(written as object), name: 'wiz2' } });
    expect(again.status).toBe(409);
    expect(JSON.parse(readFileSync(join(dir, 'wiz.json'), 'utf8'))).toEqual(written);
    const preview = await fetch(`${served.origin}/api/wizard/preview`, {
      method: 'POST', headers: { Authorization: `Bearer ${served.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ roi: { path: join(dir, 'nothing.gpkg') }, grid: { crs: 'EPSG:3035', scale: 100, tilePixels: 500 } }),
    });
    expect(preview.status).toBe(400);
    await page.screenshot({ path: screenshotPath('wizard-done.png') });
    expect(problems).toEqual([]);
  });
});
