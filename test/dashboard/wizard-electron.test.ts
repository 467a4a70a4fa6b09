// The wizard inside the desktop shell: the built dashboard in Chromium with a fake preload bridge
// (`window.tessera`). Files are chosen with the system dialog (the `chooseFile` channel) and given to the
// host as paths — nothing is uploaded; the recipe is checked over `checkRecipe`; "Save without starting"
// sends `start: false`.
import { describe, expect, it } from 'vitest';
import { jobView } from '../desktop/fakes';
import { useBrowser } from '../helpers/browser';
import { openBridgePage, screenshotPath, until } from './helpers';

const browser = useBrowser();

describe('the job wizard in the desktop shell (fake bridge)', () => {
  it('chooses files with the system dialog, previews and checks over IPC, saves without starting', { timeout: 60_000 }, async () => {
    const snapshot = { seq: 0, jobs: [jobView('demo')] };
    const preview = {
      layers: [{ name: 'a', geometryType: 'POLYGON', featureCount: 1 }, { name: 'b', geometryType: 'MULTIPOLYGON', featureCount: 2 }], layer: 'a', tiles: 2,
      pixelsPerTile: 1e6, bytesPerTile: 4e6, totalPixels: 2e6, totalBytes: 8e6, maxPixels: 1e8, overMaxPixels: false, warnings: [],
      preview: [[5, 5, 6, 5, 6, 6, 5, 6], [6, 5, 7, 5, 7, 6, 6, 6]],
    };
    const { page, problems, requests } = await openBridgePage(browser, `(() => {
      const snapshot = ${JSON.stringify(snapshot)};
      const preview = ${JSON.stringify(preview)};
      const listeners = new Set();
      window.__calls = [];
      const ok = (value) => Promise.resolve({ ok: true, value });
      window.tessera = {
        snapshot: () => ok(snapshot),
        summary: () => ok(null),
        tile: () => Promise.resolve({ ok: false, error: { status: 404, message: 'no such tile' } }),
        command: (c) => ok({ ok: true }),
        subscribe: () => ok({ seq: 0 }),
        unsubscribe: () => ok({ ok: true }),
        onStream: (l) => (listeners.add(l), () => listeners.delete(l)),
        previewGrid: (r) => (window.__calls.push(['previewGrid', r]), ok(preview)),
        createJob: (r) => (window.__calls.push(['createJob', r]), ok({ ok: true, name: r.job.name, file: r.file })),
        checkRecipe: (r) => (window.__calls.push(['checkRecipe', r]), ok({ ok: true, label: 'recipe file ' + r.recipe.file, tile: 'x0_y0', kind: 'image', logs: [], bands: [{ id: 'NDVI', type: 'Float32' }] })),
        chooseFile: (r) => (window.__calls.push(['chooseFile', r]), ok({ path: { roi: '/data/area.gpkg', recipe: '/data/ndvi.js', job: '/data/desk.json' }[r.kind] })),
        // The preload's webUtils.getPathForFile: a dropped file's path on this computer.
        pathForFile: (f) => '/home/ada/' + f.name,
      };
    })()`);
    await page.getByTestId('new-job').click();
    const wizard = page.getByRole('dialog', { name: 'New job' });
    await wizard.waitFor();
    // The desktop app offers "Choose…" (the system dialog), not a file input to send bytes.
    expect(await page.locator('[data-testid="wizard"] input[type="file"]').count()).toBe(0);
    // A file dropped on the wizard is taken by its path (never uploaded).
    await page.evaluate(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['GPKG'], 'dropped.gpkg'));
      document.querySelector('[data-testid="wizard"]').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    })()`);
    await until(async () => (await page.getByTestId('wizard-roi').inputValue()) === '/home/ada/dropped.gpkg', 10_000, 50, 'the dropped file\'s path');
    await page.getByTestId('wizard-roi-upload').click();
    await until(async () => (await page.getByTestId('wizard-roi').inputValue()) === '/data/area.gpkg', 10_000, 50, 'the chosen path');
    await page.getByTestId('wizard-layer').waitFor({ timeout: 10_000 });
    await until(async () => (await page.getByTestId('tile-map').getAttribute('data-preview-tiles')) === '2', 10_000, 50, 'the preview on the map');
    await page.getByTestId('wizard-recipe').selectOption('file');
    await page.getByTestId('wizard-recipe-upload').click();
    await until(async () => (await page.getByTestId('wizard-recipe-check').getAttribute('data-state')) === 'ok', 10_000, 50, 'the recipe checked');
    expect(await page.getByTestId('wizard-recipe-check').textContent()).toContain('NDVI (Float32)');
    await page.getByTestId('wizard-name').fill('desk');
    await page.getByLabel('Local folder for the outputs').fill('/data/out');
    // Where the job file goes: the system's save dialog.
    await page.getByTestId('wizard-file-choose').click();
    await until(async () => (await page.getByLabel('Save the job file as').inputValue()) === '/data/desk.json', 10_000, 50, 'the chosen job file');
    await page.screenshot({ path: screenshotPath('wizard-electron.png') });
    await page.getByTestId('wizard-save').click();
    await wizard.waitFor({ state: 'detached' });
    const calls = await page.evaluate<[string, unknown][]>('window.__calls');
    expect(calls.filter(([c]) => c === 'chooseFile').map(([, r]) => r)).toEqual([{ kind: 'roi' }, { kind: 'recipe' }, { kind: 'job' }]);
    expect(calls.find(([c]) => c === 'previewGrid')![1]).toMatchObject({ roi: { path: '/data/area.gpkg' } });
    expect(calls.find(([c]) => c === 'checkRecipe')![1]).toMatchObject({ recipe: { file: '/data/ndvi.js' }, roi: { path: '/data/area.gpkg' } });
    expect(calls.find(([c]) => c === 'createJob')![1]).toMatchObject({ start: false, file: '/data/desk.json', job: { name: 'desk', roi: { path: '/data/area.gpkg' }, recipe: { file: '/data/ndvi.js' } } });
    // The preview leaves the map with the wizard; nothing went over HTTP.
    expect(await page.getByTestId('tile-map').getAttribute('data-preview-tiles')).toBeNull();
    expect(requests.filter((p) => p.startsWith('/api/'))).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
