import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rectangleJob } from '../helpers/job';
import { useBrowser } from '../helpers/browser';
import { useEmulator } from '../helpers/emulator';
import { legendCounts, openPage, pageValue, serve } from './helpers';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20 });
const browser = useBrowser();

/**
 * End to end: `tessera serve` runs a 2-tile job over 3 yearly periods against the emulator; when it has
 * finished, the page's period selector has every period, and the preview layer draws the quicklooks the
 * host made from the downloaded GeoTIFFs, fetched from its preview route.
 */
describe('a time series in tessera serve (Chromium, emulator)', () => {
  it('finishes, lists its periods, and shows its results from the preview route', async () => {
    const job = rectangleJob('series', 2, 1, { periods: { start: '2021-01-01', end: '2024-01-01', every: 'year' } });
    const served = await serve([job.file, '--emulator', emu.url, '--port', '0']);
    try {
      const { page, problems } = await openPage(browser, served.url);
      await expect.poll(async () => (await legendCounts(page)).done, { timeout: 60_000 }).toBe(6);
      const options = await pageValue<string[]>(page, `[...document.querySelectorAll('[data-testid="period-select"] option')].map((o) => o.value)`);
      expect(options).toEqual(['', '2021', '2022', '2023']);
      await page.getByTestId('period-select').selectOption('2022');
      await expect.poll(async () => (await legendCounts(page)).done).toBe(2);
      await page.getByTestId('preview-toggle').click();
      await expect.poll(() => page.getByTestId('tile-map').getAttribute('data-preview-images'), { timeout: 30_000 }).toBe('2');
      const images = await pageValue<{ alt: string; w: number }[]>(page, `[...document.querySelectorAll('img.result-preview')].map((e) => ({ alt: e.alt, w: e.naturalWidth }))`);
      expect(new Set(images.map((i) => i.alt)).size).toBe(2);
      expect(images.every((i) => i.alt.startsWith('quicklook of 2022@') && i.w === 128)).toBe(true);
      for (const period of ['2021', '2022', '2023']) expect(existsSync(join(job.stateDir, 'previews', period))).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await served.stop();
    }
  }, 120_000);
});
