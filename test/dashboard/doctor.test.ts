/**
 * `tessera doctor` in the dashboard (docs/signin-and-doctor.md#doctor), in Chromium against the emulator through
 * `tessera serve`: Settings shows the checks, and the wizard runs them before it starts a job — a failing
 * check (here Drive access left unticked at Google's consent) keeps the job from being written or started,
 * and says why next to the button.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { REPO } from '../helpers/cli';
import { launchBrowser, openPage, pageValue, screenshotPath, serve, until, type Served } from './helpers';
import { fillJobPlaces, openWizardByKeyboard, pickForestGrid } from './wizard-steps';

let emu: EmulatorHandle;
let browser: Browser;
let served: Served;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 1000 });
  browser = await launchBrowser();
  served = await serve(['--emulator', emu.url], { TESSERA_CREDENTIALS: join(mkdtempSync(join(tmpdir(), 'tessera-doctor-ui-')), 'credentials.json') });
}, 60_000);

afterAll(async () => {
  await served?.stop(5_000);
  await browser?.close();
  await emu?.stop();
});

const GPKG = join(REPO, 'test', '.fixtures', 'two_layers.gpkg');
const statuses = (page: Page, list: string) => pageValue<string[]>(page, `[...document.querySelectorAll('[data-testid="${list}"] li')].map((li) => li.getAttribute('data-testid') + '=' + li.getAttribute('data-status'))`);
/** The browser logs every 4xx; those are not page errors. */
const unexpected = (problems: string[]) => problems.filter((p) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(p));

describe('the checks in the dashboard (tessera serve, Chromium, emulator)', () => {
  it('Settings runs the checks and shows each with its status; an unticked Drive box is a failed check naming the fix', { timeout: 90_000 }, async () => {
    const { page, problems } = await openPage(browser, served.url);
    await page.locator('[data-testid="account"]').click();
    await page.locator('[data-testid="settings"]').waitFor();
    await page.getByTestId('settings-doctor-run').click();
    await until(async () => (await statuses(page, 'settings-doctor')).length > 0, 30_000, 100, 'the checks');
    expect(await statuses(page, 'settings-doctor')).toEqual(['doctor-credentials=ok', 'doctor-scopes=ok', 'doctor-earthengine=ok', 'doctor-drive=ok', 'doctor-clock=ok']);

    emu.configure({ grantScopes: 'earthengine,cloud-platform' });
    try {
      await page.getByTestId('settings-doctor-run').click();
      await until(async () => (await statuses(page, 'settings-doctor')).includes('doctor-scopes=fail'), 30_000, 100, 'the failed scopes check');
      const line = (await page.getByTestId('doctor-scopes').textContent())!.replace(/\s+/g, ' ');
      expect(line).toMatch(/Access granted \(failed\): Google did not grant Tessera access to Google Drive.*tick "See, edit, create, and delete all of your Google Drive files"/);
      await page.screenshot({ path: screenshotPath('settings-doctor.png') });
    } finally {
      emu.configure({ grantScopes: null });
    }
    expect(unexpected(problems)).toEqual([]);
  });

  it('the wizard runs the checks before it starts a job: a failing one keeps it unwritten, a good one lets it start', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-wizard-doctor-'));
    const { page, problems } = await openPage(browser, served.url);
    const wizard = await openWizardByKeyboard(page);
    await page.getByLabel('ROI file (GeoPackage or GeoJSON, full path)').fill(GPKG);
    await pickForestGrid(page);
    await fillJobPlaces(page, 'docwiz', join(dir, 'out'), join(dir, 'docwiz.json'));

    emu.configure({ grantScopes: 'earthengine,cloud-platform' });
    try {
      await page.getByTestId('wizard-create').click();
      await page.getByTestId('wizard-doctor').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('wizard-failure').innerText()).toMatch(/not started/);
      expect(await statuses(page, 'wizard-doctor')).toContain('doctor-scopes=fail');
      expect(await page.getByTestId('doctor-scopes').innerText()).toMatch(/Google Drive/);
      // Nothing was written or added.
      expect(existsSync(join(dir, 'docwiz.json'))).toBe(false);
      expect(await page.getByTestId('job-tab-docwiz').count()).toBe(0);
      await page.screenshot({ path: screenshotPath('wizard-doctor.png') });
    } finally {
      emu.configure({ grantScopes: null });
    }

    // The box ticked again: the checks pass, the job is written, added and started.
    await page.getByTestId('wizard-create').click();
    await wizard.waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByTestId('job-tab-docwiz').waitFor({ timeout: 30_000 });
    expect(existsSync(join(dir, 'docwiz.json'))).toBe(true);
    expect(unexpected(problems)).toEqual([]);
  });
});
