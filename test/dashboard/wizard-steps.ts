// Steps shared by the wizard tests (kept out of helpers.ts, which the UI benchmark loads outside vitest).
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { EmulatorHandle } from '../../main/emulator';
import { useBrowser } from '../helpers/browser';
import { REPO } from '../helpers/cli';
import { useEmulator } from '../helpers/emulator';
import { useStarted } from '../helpers/hooks';
import { pageValue, serve, type Served } from './helpers';

/** The GeoPackage with the layers fields, forest and plots that `pickForestGrid` expects. */
export const TWO_LAYERS_GPKG = join(REPO, 'test', '.fixtures', 'two_layers.gpkg');

/**
 * What a wizard test drives, for the tests of its file: the emulator (slow tasks, so a job is seen running),
 * Chromium, and `tessera serve` with no job against that emulator.
 */
export function useWizardServe(): { emu: EmulatorHandle; browser: Browser; served: Served } {
  const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 1000, slots: 2 });
  const browser = useBrowser();
  const served = useStarted('tessera serve', () => serve(['--emulator', emu.url]), (s) => s.stop(5_000).then(() => undefined));
  return { emu, browser, served };
}

/**
 * In the open wizard: EPSG:3035, 100 m pixels, 500-pixel tiles for the two-layer GeoPackage fixture — the
 * layers must be offered (fields, forest, plots), `forest` is chosen and the estimate must follow it.
 * Returns the tile count the wizard shows.
 */
export async function pickForestGrid(page: Page): Promise<number> {
  await page.getByLabel('CRS', { exact: true }).fill('EPSG:3035');
  await page.getByLabel('Pixel size (CRS units)').fill('100');
  await page.getByLabel('Tile size (pixels)').fill('500');
  const layer = page.getByTestId('wizard-layer');
  await layer.waitFor({ timeout: 15_000 });
  expect(await pageValue<string[]>(page, `[...document.querySelectorAll('[data-testid="wizard-layer"] option')].map((o) => o.value)`)).toEqual(['fields', 'forest', 'plots']);
  await layer.selectOption('forest');
  await expect.poll(() => page.getByTestId('wizard-estimate').getAttribute('data-layer'), { timeout: 15_000 }).toBe('forest');
  await expect.poll(() => page.getByTestId('wizard-estimate').textContent(), { timeout: 15_000 }).toMatch(/^\d+ tiles · 250,?000 px/);
  const tiles = Number(/^(\d+) tiles/.exec((await page.getByTestId('wizard-estimate').textContent())!)![1]);
  expect(tiles).toBeGreaterThan(1);
  return tiles;
}

/** In the open wizard: the job's name, its Drive folder `tessera-<name>`, the local folder and the job file. */
export async function fillJobPlaces(page: Page, name: string, output: string, file: string): Promise<void> {
  await page.getByTestId('wizard-name').fill(name);
  await page.getByLabel('Drive folder').fill(`tessera-${name}`);
  await page.getByLabel('Local folder for the outputs').fill(output);
  await page.getByLabel('Save the job file as').fill(file);
}

/** Opens the wizard from its button by keyboard (focus, Enter) and waits for the dialog. */
export async function openWizardByKeyboard(page: Page): Promise<Locator> {
  const open = page.getByTestId('new-job');
  await open.waitFor({ timeout: 15_000 });
  await open.focus();
  await page.keyboard.press('Enter');
  const wizard = page.getByRole('dialog', { name: 'New job' });
  await wizard.waitFor();
  return wizard;
}
