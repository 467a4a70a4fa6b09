import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardHost, DashboardServer } from '../../main/server/server';
import { startDashboardServer } from '../../main/server/server';
import type { StreamMessage } from '../../shared/dashboard';
import { tessera } from '../helpers/cli';
import { runJob, useEmulator } from '../helpers/emulator';
import { rectangleJob } from '../helpers/job';
import { serve, until } from './helpers';

/** A host that records commands and lets the test push stream messages. */
function fakeHost() {
  const listeners = new Set<(m: StreamMessage) => void>();
  let seq = 0;
  const commands: unknown[] = [];
  const host: DashboardHost = {
    snapshot: () => ({ seq, jobs: [] }),
    summary: (job) => {
      throw Object.assign(new Error(`no job named ${job}`), { status: 404 });
    },
    tile: (job) => {
      throw Object.assign(new Error(`no job named ${job}`), { status: 404 });
    },
    command: async (c) => {
      commands.push(c);
      return { ok: true };
    },
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    position: () => seq,
  };
  const push = () => {
    const m: StreamMessage = { kind: 'jobs', seq: ++seq };
    for (const l of listeners) l(m);
  };
  return { host, commands, push, listeners };
}

describe('the dashboard server', () => {
  let server: DashboardServer;
  let fake: ReturnType<typeof fakeHost>;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-renderer-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dir, 'app.js'), 'void 0;');
    writeFileSync(join(dir, 'secret.txt'), 'not served: unknown type');
    fake = fakeHost();
    server = await startDashboardServer({ host: fake.host, rendererDir: dir, token: 'T0KEN', heartbeatMs: 100 });
  });
  afterAll(async () => {
    await server?.close();
  });
  const auth = { Authorization: 'Bearer T0KEN' };

  it('serves the renderer without the token, the API only with it, with security headers on every answer', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const [path, init, status] of [
      ['/', {}, 200],
      ['/app.js', {}, 200],
      ['/secret.txt', {}, 404],
      ['/../package.json', {}, 404],
      ['/api/snapshot', {}, 401],
      ['/api/snapshot', { headers: { Authorization: 'Bearer wrong' } }, 401],
      ['/api/snapshot', { headers: { Authorization: 'Bearer T0KEN-but-longer' } }, 401],
      ['/api/snapshot', { headers: auth }, 200],
      ['/api/snapshot', { headers: { 'X-Tessera-Token': 'T0KEN' } }, 200],
      ['/api/jobs/nope/summary', { headers: auth }, 404],
      ['/api/jobs/%E0%A4%A/summary', { headers: auth }, 400],
      ['/api/nothing', { headers: auth }, 404],
      ['/api/command', { headers: auth }, 405],
      ['/api/command', { method: 'POST', headers: { ...auth, 'Content-Type': 'text/plain' }, body: '{}' }, 415],
      ['/api/command', { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{not json' }, 400],
      ['/api/command', { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json', Origin: 'http://evil.example' }, body: '{}' }, 403],
      ['/api/command', { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json', Origin: server.url }, body: '{"type":"status","job":"a"}' }, 200],
      ['/', { method: 'POST' }, 405],
    ] as const) {
      const r = await fetch(server.url + path, init as RequestInit);
      expect(r.status, `${init && 'method' in init ? init.method : 'GET'} ${path}`).toBe(status);
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      if (status === 401) expect(r.headers.get('www-authenticate')).toBe('Bearer');
      await r.body?.cancel();
    }
    expect(fake.commands).toEqual([{ type: 'status', job: 'a' }]);
    const big = await fetch(`${server.url}/api/command`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: `"${'x'.repeat(5 * 1024 * 1024)}"` }).catch(() => undefined);
    expect(big === undefined || big.status >= 400).toBe(true);
  });

  it('streams Server-Sent Events: hello with the position first, then every message, keep-alives between', async () => {
    fake.push();
    const controller = new AbortController();
    const r = await fetch(`${server.url}/api/events`, { headers: auth, signal: controller.signal });
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    await until(() => fake.listeners.size === 1, 5_000, 10, 'the subscription');
    fake.push();
    fake.push();
    await until(
      async () => {
        text += (await reader.read()).value ?? '';
        return (text.match(/^data: /gm) ?? []).length >= 3 && text.includes(': keep-alive');
      },
      5_000,
      0,
      'three messages and a keep-alive',
    );
    const data = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as StreamMessage);
    expect(data.slice(0, 3)).toEqual([{ kind: 'hello', seq: 1 }, { kind: 'jobs', seq: 2 }, { kind: 'jobs', seq: 3 }]);
    controller.abort();
    await until(() => fake.listeners.size === 0, 5_000, 10, 'the subscription to end');
  });
});

describe('tessera serve (command line)', () => {
  const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 5_000, slots: 1 });

  it('refuses bad input with one line and exit 1', () => {
    for (const args of [['--port', 'abc'], ['--port', '70000'], ['/nonexistent/job.json']]) {
      const r = tessera(['serve', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    const help = tessera(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--emulator');
  });

  it('serves with no job, and stops on SIGTERM with exit 0', { timeout: 30_000 }, async () => {
    const s = await serve([]);
    const r = await fetch(`${s.origin}/api/snapshot`, { headers: { Authorization: `Bearer ${s.token}` } });
    expect(await r.json()).toEqual({ seq: 0, jobs: [] });
    s.child.kill('SIGTERM');
    const kill = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
    expect(await s.exited).toBe(0);
    clearTimeout(kill);
  });

  it('Ctrl-C while a job runs: exit 130, lock released, and tessera run resumes it', { timeout: 60_000 }, async () => {
    const job = rectangleJob('served-stop', 2, 1);
    const s = await serve([job.file, '--emulator', emu.url]);
    await until(() => emu.state().operations.some((o) => o.description?.startsWith('served-stop_')), 20_000, 50, 'an export');
    expect(existsSync(join(job.stateDir, 'lock'))).toBe(true);
    // A second process cannot drive the same job meanwhile.
    // (Async: the emulator lives in this process, a synchronous child would block it.)
    const second = await runJob(job.file, emu.url, { TESSERA_CREDENTIALS: join(tmpdir(), 'tessera-dash-none.json') }, 30_000);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(/tessera serve/);
    expect(await s.stop()).toBe(130);
    expect(existsSync(join(job.stateDir, 'lock'))).toBe(false);
    emu.configure({ taskBaseSeconds: 100 });
    const run = await runJob(job.file, emu.url, { TESSERA_CREDENTIALS: join(tmpdir(), 'tessera-dash-none.json') }, 45_000);
    expect(run.code, run.stderr).toBe(0);
    // Nothing was exported twice.
    const ops = emu.state().operations.filter((o) => o.description?.startsWith('served-stop_'));
    expect(new Set(ops.map((o) => o.description)).size).toBe(ops.length);
  });
});
