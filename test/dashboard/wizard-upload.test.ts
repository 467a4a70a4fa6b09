import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { NewJobRequestSchema } from '../../shared/dashboard';
import { REPO } from '../helpers/cli';
import { legendCounts, launchBrowser, openPage, pageValue, screenshotPath, serve, until, type Served } from './helpers';
import { fillJobPlaces, openWizardByKeyboard, pickForestGrid } from './wizard-steps';

/**
 * The job wizard as a browser user meets it with `tessera serve` (no paths from a page): the ROI sent as a
 * file (a GeoPackage with two polygon layers and a point layer: the layer choice offered), the grid drawn
 * on the map while the wizard (a side panel) is open, a custom recipe dropped on the wizard and checked
 * live, the focus kept in the dialog; a job created and started that finishes, and one saved without
 * starting and started from the jobs list.
 */
let emu: EmulatorHandle;
let browser: Browser;
let served: Served | undefined;
let page: Page;
let problems: string[];
let dir: string;
let data: string;
let storedRoi: string;
let tiles = 0;

const GPKG = join(REPO, 'test', '.fixtures', 'two_layers.gpkg');
const GOOD_RECIPE = "module.exports = (tile, ee) => {\n  print('tile', tile.id);\n  return ee.Image.constant(1).rename('one').toFloat().clip(tile.geometry);\n};\n";
const BAD_RECIPE = "module.exports = (tile, ee) => {\n  return ee.Image.constant(1).rename('one') +;\n};\n";

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 1000, slots: 2 });
  browser = await launchBrowser();
  dir = mkdtempSync(join(tmpdir(), 'tessera-wizard-upload-'));
  data = join(dir, 'data');
  // Recipe files from the page need the flag (docs/security.md); the test after the others checks the refusal.
  served = await serve(['--emulator', emu.url, '--data', data, '--allow-custom-recipes']);
  ({ page, problems } = await openPage(browser, served.url));
});

afterAll(async () => {
  await served?.stop(5_000);
  await browser?.close();
  await emu?.stop();
});

const focusedId = () =>
  pageValue<string>(page, `(() => { const el = document.activeElement; if (!el || el === document.body) return 'body';
    return el.closest('[data-testid="wizard"]') ? (el.getAttribute('data-testid') || el.id || el.textContent.trim()) : 'outside:' + (el.getAttribute('data-testid') || el.tagName); })()`);

/** The controls of the wizard Tab can reach (what its focus trap cycles through). */
const wizardControls = () =>
  pageValue<string[]>(
    page,
    `[...document.querySelector('[data-testid="wizard"]').querySelectorAll('input, select, textarea, button, a[href], [tabindex]:not([tabindex="-1"])')]
      .filter((el) => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0)
      // A radio group is one tab stop, its checked radio (arrow keys move within it).
      .filter((el) => el.type !== 'radio' || el.checked)
      .map((el) => el.getAttribute('data-testid') || el.id || el.textContent.trim())`,
  );

/** Drops a file made in the page onto the wizard, as a file manager would. */
async function dropFile(name: string, text: string): Promise<void> {
  await page.evaluate(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)}, { type: 'application/octet-stream' }));
    const el = document.querySelector('[data-testid="wizard"]');
    for (const type of ['dragenter', 'dragover', 'drop']) el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
}

const api = (path: string, body?: unknown) =>
  fetch(`${served!.origin}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${served!.token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('the job wizard in a browser: upload, preview on the map, recipe check, save or start (tessera serve, Chromium, emulator)', () => {
  it('keeps the focus in the dialog; Escape closes it and gives the focus back', { timeout: 60_000 }, async () => {
    const wizard = await openWizardByKeyboard(page);
    expect(await focusedId()).toBe('wizard-name');
    // Shift+Tab from the first control goes round to the last one, not out of the dialog.
    await page.keyboard.press('Shift+Tab');
    expect(await focusedId()).toBe('wizard-create');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('wizard-name');
    await page.keyboard.press('Escape');
    await wizard.waitFor({ state: 'detached' });
    expect(await pageValue<string>(page, `document.activeElement.getAttribute('data-testid')`)).toBe('new-job');
  });

  it('creates a job from an uploaded GeoPackage with two layers (layer offered, grid previewed on the map), starts it and sees it finish', { timeout: 180_000 }, async () => {
    await page.getByTestId('new-job').click();
    const wizard = page.getByRole('dialog', { name: 'New job' });
    await wizard.waitFor();
    // A side panel: most of the map stays in view beside it.
    const box = (await wizard.boundingBox())!;
    const map = (await page.getByTestId('tile-map').boundingBox())!;
    expect(box.x - map.x).toBeGreaterThan(600);

    // The ROI is sent to tessera serve and kept in its uploads folder (--data); the field gets the stored path.
    await page.getByTestId('wizard-roi-upload').setInputFiles(GPKG);
    await expect.poll(() => page.getByTestId('wizard-roi').inputValue(), { timeout: 15_000 }).toMatch(/two_layers\.gpkg$/);
    storedRoi = await page.getByTestId('wizard-roi').inputValue();
    expect(storedRoi.startsWith(join(data, 'uploads'))).toBe(true);
    expect(readFileSync(storedRoi).equals(readFileSync(GPKG))).toBe(true);
    expect(await page.getByTestId('wizard-roi-upload-note').textContent()).toContain('two_layers.gpkg');

    tiles = await pickForestGrid(page);

    // The grid on the map, dashed, one outline per tile, in view beside the panel.
    await expect.poll(() => page.getByTestId('tile-map').getAttribute('data-preview-tiles'), { timeout: 15_000 }).toBe(String(tiles));
    const preview = page.locator('.leaflet-preview-pane path.grid-preview');
    expect(await preview.count()).toBe(1);
    expect(await preview.getAttribute('stroke-dasharray')).toBe('5 4');
    const drawn = (await preview.boundingBox())!;
    expect(drawn.width).toBeGreaterThan(50);
    expect(drawn.x + drawn.width).toBeLessThanOrEqual(box.x + 1);
    await page.screenshot({ path: screenshotPath('wizard-preview.png') });

    // It follows the tile size (debounced), and warns above maxPixels next to the fields.
    await page.getByLabel('Tile size (pixels)').fill('250');
    await expect.poll(() => page.getByTestId('wizard-estimate').textContent(), { timeout: 15_000 }).toMatch(/^\d+ tiles · 62,?500 px/);
    const finer = Number(/^(\d+) tiles/.exec((await page.getByTestId('wizard-estimate').textContent())!)![1]);
    expect(finer).toBeGreaterThan(tiles);
    await expect.poll(() => page.getByTestId('tile-map').getAttribute('data-preview-tiles'), { timeout: 15_000 }).toBe(String(finer));
    await page.screenshot({ path: screenshotPath('wizard-preview-finer.png') });
    // A fine grid: the map holds the first 5,000 tiles and says so.
    await page.getByLabel('Tile size (pixels)').fill('5');
    await page.getByTestId('wizard-preview-note').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('wizard-preview-note').textContent()).toMatch(/first 5,?000 of [\d,]+ tiles/);
    await expect.poll(() => page.getByTestId('tile-map').getAttribute('data-preview-tiles'), { timeout: 15_000 }).toBe('5000');
    await page.screenshot({ path: screenshotPath('wizard-preview-5000.png') });
    await page.getByLabel('Tile size (pixels)').fill('20000');
    await page.getByTestId('wizard-maxpixels').waitFor({ timeout: 15_000 });
    await page.getByLabel('Tile size (pixels)').fill('500');
    await page.getByTestId('wizard-maxpixels').waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(() => page.getByTestId('tile-map').getAttribute('data-preview-tiles'), { timeout: 15_000 }).toBe(String(tiles));

    // A broken recipe dropped on the wizard: sent, checked as `tessera recipes check` does, the error beside the field.
    await page.getByTestId('wizard-recipe').selectOption('file');
    await dropFile('bad recipe.js', BAD_RECIPE);
    await expect.poll(() => page.getByTestId('wizard-recipeFile').inputValue(), { timeout: 15_000 }).toMatch(/bad_recipe\.js$/);
    const check = page.getByTestId('wizard-recipe-check');
    await expect.poll(() => check.getAttribute('data-state'), { timeout: 30_000 }).toBe('error');
    expect(await check.textContent()).toMatch(/bad_recipe\.js/);
    expect(await check.getAttribute('role')).toBe('alert');
    expect(await page.getByTestId('wizard-recipeFile').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: screenshotPath('wizard-recipe-error.png') });

    // Keyboard only: Tab reaches every control of the wizard, and comes round to the first without leaving it.
    const controls = await wizardControls();
    expect(controls).toEqual(expect.arrayContaining(['wizard-roi-upload', 'wizard-layer', 'wizard-recipe-upload', 'wizard-save', 'wizard-create', 'wizard-cancel']));
    await page.getByTestId('wizard-name').focus();
    const reached = [await focusedId()];
    for (let k = 0; k < controls.length; k++) {
      await page.keyboard.press('Tab');
      reached.push(await focusedId());
    }
    expect(reached.filter((r) => r.startsWith('outside'))).toEqual([]);
    expect(reached.slice(0, controls.length)).toEqual(controls);
    expect(reached[controls.length]).toBe('wizard-name');

    // Back to the built-in image for this job; name, folders, then "Create and start".
    await page.getByTestId('wizard-recipe').selectOption('');
    await fillJobPlaces(page, 'wiz', join(dir, 'out'), join(dir, 'wiz.json'));
    await page.getByTestId('wizard-create').click();
    await wizard.waitFor({ state: 'detached', timeout: 30_000 });
    // The preview leaves with the wizard.
    await expect.poll(() => page.locator('.leaflet-preview-pane path').count()).toBe(0);
    expect(await page.getByTestId('tile-map').getAttribute('data-preview-tiles')).toBeNull();

    const written = JSON.parse(readFileSync(join(dir, 'wiz.json'), 'utf8')) as unknown;
    expect(NewJobRequestSchema.parse({ file: join(dir, 'wiz.json'), job: written }).job).toMatchObject({
      name: 'wiz', roi: { path: storedRoi, layer: 'forest' }, grid: { crs: 'EPSG:3035', scale: 100, tilePixels: 500 },
    });
    await page.getByTestId('job-tab-wiz').waitFor({ timeout: 30_000 });
    await until(async () => (await legendCounts(page)).done === tiles, 90_000, 250, 'every tile of the wizard job done').catch(async (e: Error) => {
      await page.screenshot({ path: screenshotPath('wizard-upload-stuck.png') });
      throw new Error(`${e.message}; legend ${JSON.stringify(await legendCounts(page))}; stderr ${served!.stderr()}`);
    });
    await until(() => /wiz: every tile done/.test(served!.stdout()), 30_000, 100, 'the job to finish');
    await expect.poll(() => page.getByTestId('jobs-state-wiz').textContent(), { timeout: 15_000 }).toBe('finished');
    await page.screenshot({ path: screenshotPath('wizard-upload-done.png') });
  });

  it('saves a job without starting it (custom recipe sent and checked); the jobs list starts it and it finishes', { timeout: 180_000 }, async () => {
    await page.getByTestId('new-job').click();
    const wizard = page.getByRole('dialog', { name: 'New job' });
    await wizard.waitFor();
    // A path on the server's side can still be typed: the file sent before.
    await page.getByTestId('wizard-roi').fill(storedRoi);
    await page.getByLabel('Pixel size (CRS units)').fill('100');
    await page.getByLabel('Tile size (pixels)').fill('500');
    await page.getByTestId('wizard-layer').waitFor({ timeout: 15_000 });
    await page.getByTestId('wizard-layer').selectOption('fields');
    await expect.poll(() => page.getByTestId('wizard-estimate').getAttribute('data-layer'), { timeout: 15_000 }).toBe('fields');
    const fieldTiles = Number(/^(\d+) tiles/.exec((await page.getByTestId('wizard-estimate').textContent())!)![1]);
    await page.getByTestId('wizard-recipe').selectOption('file');
    const recipe = join(dir, 'ndvi.js');
    writeFileSync(recipe, GOOD_RECIPE);
    await page.getByTestId('wizard-recipe-upload').setInputFiles(recipe);
    await expect.poll(() => page.getByTestId('wizard-recipeFile').inputValue(), { timeout: 15_000 }).toMatch(/uploads.*ndvi\.js$/);
    const check = page.getByTestId('wizard-recipe-check');
    await expect.poll(() => check.getAttribute('data-state'), { timeout: 30_000 }).toBe('ok');
    expect(await check.textContent()).toMatch(/builds an ee\.Image/);
    await page.screenshot({ path: screenshotPath('wizard-recipe-ok.png') });

    await fillJobPlaces(page, 'saved', join(dir, 'out-saved'), join(dir, 'saved.json'));
    await page.getByTestId('wizard-save').click();
    await wizard.waitFor({ state: 'detached', timeout: 30_000 });
    const written = JSON.parse(readFileSync(join(dir, 'saved.json'), 'utf8')) as { recipe?: { file?: string } };
    expect(written.recipe?.file).toMatch(/uploads.*ndvi\.js$/);

    // In the jobs list, not running, nothing planned; then started from there.
    await page.getByTestId('jobs-row-saved').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId('jobs-state-saved').textContent()).toBe('not running');
    expect(await page.getByTestId('jobs-done-saved').textContent()).toBe('0/0');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await page.getByTestId('jobs-state-saved').textContent()).toBe('not running');
    await page.screenshot({ path: screenshotPath('jobs-saved.png') });
    await page.getByTestId('jobs-start-saved').click();
    await until(() => /saved: every tile done/.test(served!.stdout()), 120_000, 200, 'the saved job to finish').catch((e: Error) => {
      throw new Error(`${e.message}; stdout ${served!.stdout()}; stderr ${served!.stderr()}`);
    });
    await expect.poll(() => page.getByTestId('jobs-state-saved').textContent(), { timeout: 15_000 }).toBe('finished');
    await expect.poll(() => page.getByTestId('jobs-done-saved').textContent(), { timeout: 15_000 }).toBe(`${fieldTiles}/${fieldTiles}`);
  });

  it('refuses uploads without the token, too large, or with a name that would leave the folder', { timeout: 30_000 }, async () => {
    const up = (name: string, body: string, headers: Record<string, string> = { Authorization: `Bearer ${served!.token}` }) =>
      fetch(`${served!.origin}/api/wizard/upload?name=${encodeURIComponent(name)}`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream', ...headers }, body });
    expect((await up('a.geojson', '{}', {})).status).toBe(401);
    expect((await up('a.exe', 'MZ')).status).toBe(400);
    const sneaky = await up('../../../etc/evil.js', 'module.exports = 1;');
    expect(sneaky.status).toBe(200);
    const kept = ((await sneaky.json()) as { path: string; name: string });
    expect(kept.name).toBe('evil.js');
    expect(kept.path.startsWith(join(data, 'uploads') + '/')).toBe(true);
    const dotted = (await (await up('..\\..\\.hidden.geojson', '{}')).json()) as { name: string };
    expect(dotted.name).toBe('hidden.geojson');
    // Above 200 MB (as announced): 413 before any byte is kept.
    const big = await new Promise<number>((resolve, reject) => {
      const req = request(`${served!.origin}/api/wizard/upload?name=big.gpkg`, {
        method: 'POST', headers: { Authorization: `Bearer ${served!.token}`, 'Content-Type': 'application/octet-stream', 'Content-Length': String(201 * 1024 ** 2) },
      }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.write(Buffer.alloc(1024));
    });
    expect(big).toBe(413);
    expect(readdirSync(join(data, 'uploads')).filter((n) => n.startsWith('.incoming'))).toEqual([]);
    // The recipe check over HTTP: a missing file is a finding, not a crash.
    const r = await api('/api/wizard/recipe-check', { recipe: { file: join(dir, 'nothing.js') }, roi: { path: storedRoi, layer: 'forest' }, grid: { crs: 'EPSG:3035', scale: 100, tilePixels: 500 } });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: false, message: expect.stringContaining('nothing.js') });
    expect(problems).toEqual([]);
  });
  it('without --allow-custom-recipes the wizard says why a recipe file is refused', { timeout: 60_000 }, async () => {
    const plain = await serve(['--emulator', emu.url, '--data', join(dir, 'data-plain')]);
    const other = await openPage(browser, plain.url);
    try {
      await other.page.getByTestId('new-job').click();
      await other.page.getByRole('dialog', { name: 'New job' }).waitFor();
      await other.page.getByTestId('wizard-recipe').selectOption('file');
      const recipe = join(dir, 'refused.js');
      writeFileSync(recipe, GOOD_RECIPE);
      await other.page.getByTestId('wizard-recipe-upload').setInputFiles(recipe);
      const line = other.page.getByRole('alert').filter({ hasText: '--allow-custom-recipes' });
      await line.waitFor({ timeout: 15_000 });
      expect(await line.textContent()).toMatch(/^refused\.js: custom recipe files are off in this tessera serve: restart it with --allow-custom-recipes/);
    } finally {
      await other.page.close();
      await plain.stop(5_000);
    }
  });
});
