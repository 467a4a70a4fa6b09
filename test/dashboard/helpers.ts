import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BIN, REPO } from '../helpers/cli';

/** Debian's Chromium (never a downloaded one); offline-friendly flags. */
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
}

/** Screenshots for people to look at: `test-results/dashboard/` (git-ignored). */
export function screenshotPath(name: string): string {
  const dir = join(REPO, 'test-results', 'dashboard');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** A page that fails the test on script errors, and never reaches the internet (OSM tiles fail fast: the offline basemap). */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Aborted OSM tiles are expected here (no network); anything else the page logs as an error is not.
    if (m.type() === 'error' && !/Failed to load resource: net::ERR_FAILED/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (r) => r.abort());
  await page.goto(url);
  return { page, problems };
}

export interface Served {
  child: ChildProcess;
  /** The printed URL, with its #token=… fragment. */
  url: string;
  origin: string;
  token: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  /** Sends SIGINT and resolves with the exit code (SIGKILL after `ms`). */
  stop(ms?: number): Promise<number | null>;
}

/** Starts `tessera serve` as a user would and waits (bounded) for its `serving on …` line. */
export function serve(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    env: { ...process.env, TESSERA_CREDENTIALS: join(mkdtempSync(join(tmpdir(), 'tessera-dashboard-config-')), 'credentials.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tessera serve printed no URL within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`));
    }, timeoutMs);
    const check = () => {
      const m = /^serving on (http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]+))$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve({
        child,
        url: m[1]!,
        origin: `http://127.0.0.1:${m[2]}`,
        token: m[3]!,
        stdout: () => out,
        stderr: () => err,
        exited,
        stop: async (ms = 20_000) => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
          const kill = setTimeout(() => child.kill('SIGKILL'), ms);
          const code = await exited;
          clearTimeout(kill);
          return code;
        },
      });
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tessera serve exited (${code}) before serving; stderr: ${err}`));
    });
  });
}

/** Polls `what` every `everyMs` until it returns a truthy value (bounded by `ms`). */
export async function until<T>(what: () => Promise<T> | T, ms = 30_000, everyMs = 100, label = 'condition'): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The legend's counts as the page shows them (docs/dashboard.md#legend). (Page code as text: the tests' tsconfig has no DOM.) */
export function legendCounts(page: Page): Promise<Record<string, number>> {
  return page.evaluate<Record<string, number>>(`(() => {
    const out = {};
    for (const el of document.querySelectorAll('[data-testid^="legend-"][data-testid$="-count"]')) {
      const id = el.getAttribute('data-testid');
      out[id.slice('legend-'.length, -'-count'.length)] = Number(el.textContent);
    }
    return out;
  })()`);
}

/** The colour drawn on the tiles' canvas at a point of the page (r, g, b). */
export function canvasColourAt(page: Page, x: number, y: number): Promise<[number, number, number]> {
  return page.evaluate<[number, number, number]>(`(() => {
    const canvas = document.querySelector('.leaflet-tiles-pane canvas');
    const r = canvas.getBoundingClientRect();
    const px = Math.round(((${x} - r.left) * canvas.width) / r.width);
    const py = Math.round(((${y} - r.top) * canvas.height) / r.height);
    const d = canvas.getContext('2d').getImageData(px, py, 1, 1).data;
    return [d[0], d[1], d[2]];
  })()`);
}

/** Evaluates an expression in the page (as text: the tests' tsconfig has no DOM). */
export function pageValue<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate<T>(expression);
}

/**
 * Builds the component harness (the real renderer over the in-process transport, fed by the scripted host
 * of harness/harness.tsx) into `dir`: harness.js, harness.css and harness.html. `production` minifies it
 * the way the shipped renderer is, for timing.
 */
export async function buildHarness(dir: string, options: { production?: boolean } = {}): Promise<void> {
  await build({
    absWorkingDir: REPO,
    entryPoints: { harness: 'test/dashboard/harness/harness.tsx' },
    outdir: dir,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    jsx: 'automatic',
    minify: options.production ?? false,
    loader: { '.png': 'dataurl', '.svg': 'dataurl' },
    define: { 'process.env.NODE_ENV': options.production ? '"production"' : '"development"' },
    logLevel: 'warning',
  });
  writeFileSync(
    join(dir, 'harness.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tessera</title><link rel="stylesheet" href="harness.css"><script defer src="harness.js"></script></head><body><div id="root"></div></body></html>',
  );
}

/**
 * A page that loads the built renderer from `http://app.test/` (as the desktop app's protocol serves it)
 * with the given script run first — a fake `window.tessera` bridge. Every other request is aborted and
 * recorded (`requests`: the paths asked for), script errors land in `problems`.
 */
export async function openBridgePage(browser: Browser, initScript: string, viewport = { width: 1400, height: 900 }): Promise<{ page: Page; problems: string[]; requests: string[] }> {
  const renderer = join(REPO, 'out', 'renderer');
  const types: Record<string, string> = { html: 'text/html', js: 'text/javascript', css: 'text/css' };
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    requests.push(url.pathname);
    if (url.host !== 'app.test') return route.abort();
    const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    try {
      return route.fulfill({ status: 200, contentType: types[name.split('.').pop()!] ?? 'application/octet-stream', body: readFileSync(join(renderer, name)) });
    } catch {
      return route.fulfill({ status: 404, body: '' });
    }
  });
  await page.addInitScript(initScript);
  await page.goto('http://app.test/index.html');
  return { page, problems, requests };
}
