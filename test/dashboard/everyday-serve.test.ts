import { describe, expect, it } from 'vitest';
import { rectangleJob } from '../helpers/job';
import { useBrowser } from '../helpers/browser';
import { useEmulator } from '../helpers/emulator';
import { openPage, serve } from './helpers';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20 });
const browser = useBrowser();

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
