import type { Browser } from 'playwright-core';
import { launchBrowser } from '../dashboard/helpers';
import { useStarted } from './hooks';

/** One headless Chromium for the tests of a file, launched before them and closed after them. */
export function useBrowser(): Browser {
  return useStarted('the browser', launchBrowser, (browser) => browser.close());
}
