// The built dashboard in Chromium with a fake preload bridge (`window.tessera`, as the desktop preload
// exposes it): the page picks the Electron transport, shows the job from `snapshot`, applies stream
// messages, and sends commands through the bridge — no HTTP API, no token.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, legendCounts, openBridgePage, until } from '../dashboard/helpers';
import { jobView } from './fakes';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('the dashboard inside the desktop shell (fake bridge)', () => {
  it('uses window.tessera for snapshot, stream and commands', async () => {
    const snapshot = { seq: 0, jobs: [jobView('demo')] };
    const { page, problems, requests } = await openBridgePage(browser, `(() => {
      const snapshot = ${JSON.stringify(snapshot)};
      const listeners = new Set();
      window.__calls = [];
      const ok = (value) => Promise.resolve({ ok: true, value });
      window.__emit = (m) => listeners.forEach((l) => l(m));
      window.tessera = {
        snapshot: () => (window.__calls.push('snapshot'), ok(snapshot)),
        summary: () => ok(null),
        tile: () => Promise.resolve({ ok: false, error: { status: 404, message: 'no such tile' } }),
        command: (c) => (window.__calls.push('command:' + c.type), ok({ ok: true })),
        subscribe: () => (window.__calls.push('subscribe'), ok({ seq: 0 })),
        unsubscribe: () => ok({ ok: true }),
        onStream: (l) => (listeners.add(l), () => listeners.delete(l)),
      };
    })()`);
    await until(async () => (await legendCounts(page)).done === 1, 20_000, 100, 'the job from the bridge');
    expect(await legendCounts(page)).toMatchObject({ done: 1, queued: 1 });
    await page.evaluate(`window.__emit({ kind: 'event', seq: 1, event: { type: 'tile-state', job: 'demo', tile: 'r0c1', state: 'done', attempt: 1, at: '1970-01-01T00:00:00.000Z' } })`);
    await until(async () => (await legendCounts(page)).done === 2, 10_000, 100, 'the streamed transition');
    const calls = await page.evaluate<string[]>('window.__calls');
    expect(calls).toEqual(expect.arrayContaining(['subscribe', 'snapshot']));
    expect(requests.filter((p) => p.startsWith('/api/'))).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
