// The component-test fixture: the harness page (the real renderer over the in-process transport, a
// scripted host — harness/harness.tsx) built once per file, a fresh page before every test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { buildHarness, launchBrowser, openPage, pageValue } from './helpers';

/** The time stamp of the contract events the tests feed the harness page. */
export const HARNESS_AT = '2026-01-02T03:05:00.000Z';

/** A test's harness page, and the list its script errors land in. */
export interface HarnessPage {
  page: Page;
  problems: string[];
}

/**
 * Registers the hooks; `use` receives each test's page once it shows the legend. Returns `emit`, which
 * feeds the page's host one contract event.
 */
export function useHarnessPage(use: (opened: HarnessPage) => void): { emit: (event: object) => Promise<void> } {
  let dir: string | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-harness-'));
    await buildHarness(dir);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await page?.close();
    const opened = await openPage(browser!, pathToFileURL(join(dir!, 'harness.html')).href);
    page = opened.page;
    await page.waitForSelector('[data-testid="legend-done-count"]', { timeout: 15_000 });
    use({ page, problems: opened.problems });
  });
  return { emit: (event) => pageValue<void>(page!, `window.harness.emit(${JSON.stringify(event)})`) };
}
