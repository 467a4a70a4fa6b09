// The built dashboard in Chromium with a fake preload bridge (`window.tessera`, as the desktop preload
// exposes it): the page picks the Electron transport, shows the job from `snapshot`, applies stream
// messages, and sends commands through the bridge — no HTTP API, no token.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli';
import { launchBrowser, legendCounts, until } from '../dashboard/helpers';
import { jobView } from './fakes';

const RENDERER = join(REPO, 'out', 'renderer');
const TYPES: Record<string, string> = { html: 'text/html', js: 'text/javascript', css: 'text/css' };

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('the dashboard inside the desktop shell (fake bridge)', () => {
  it('uses window.tessera for snapshot, stream and commands', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      requests.push(url.pathname);
      if (url.host !== 'app.test') return route.abort();
      const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
      try {
        return route.fulfill({ status: 200, contentType: TYPES[name.split('.').pop()!] ?? 'application/octet-stream', body: readFileSync(join(RENDERER, name)) });
      } catch {
        return route.fulfill({ status: 404, body: '' });
      }
    });
    const snapshot = { seq: 0, jobs: [jobView('demo')] };
    await page.addInitScript(`(() => {
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
    await page.goto('http://app.test/index.html');
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
