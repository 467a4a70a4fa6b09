import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { rectangleJob } from '../helpers/job';
import { launchBrowser, openPage, serve } from './helpers';

let emu: EmulatorHandle;
let browser: Browser;
beforeAll(async () => {
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 20 });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await emu?.stop();
});

describe('tessera serve --emulator (Chromium)', () => {
  it('the header shows the account the jobs run as — the emulator’s user — not "Sign in"', async () => {
    const job = rectangleJob('who', 1, 1);
    const served = await serve([job.file, '--emulator', emu.url, '--port', '0']);
    try {
      const { page, problems } = await openPage(browser, served.url);
      await expect.poll(() => page.getByTestId('account').textContent(), { timeout: 30_000 }).toMatch(/@.*\(emulator\)/);
      expect(problems).toEqual([]);
    } finally {
      await served.stop();
    }
  }, 90_000);
});
