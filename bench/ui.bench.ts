/**
 * ui-20k-first-paint, ui-20k-long-tasks, ui-100k-first-paint (+ ui-100k-long-tasks, memory in the notes),
 * ui-1m-first-paint and ui-1m-long-tasks (1,000,009 tiles: the map's aggregated raster at low zoom):
 * the real dashboard (App, store, map, legend…) in Debian's Chromium through playwright-core, over the
 * in-process transport, fed by the scripted host of test/dashboard/harness/harness.tsx with a synthetic
 * job of N × N tiles (`?grid=N`: 142² = 20,164 and 317² = 100,489 tiles).
 *
 * - First paint: from navigation start to the frame after every tile is on the map (legend counts add up to
 *   the job's total and the tiles' canvas has drawn that many, then two animation frames), the bundle's load
 *   and the snapshot's validation included. The harness's host keeps its grid as state bytes and the page
 *   loads it through the compact snapshot (shared/compact-view.ts), as from `tessera serve`.
 * - Long tasks: 1,000 tile state changes per second (100 every 100 ms) for 10 s through the host's stream;
 *   a PerformanceObserver counts the long tasks (> 50 ms) the page has meanwhile.
 * - Baseline, measured in the same run: the naive Leaflet map (one `L.polygon` per tile on Leaflet's SVG
 *   renderer, the default without `preferCanvas`) for the 20,173 tiles of the first job, also timed from
 *   navigation start; scaled linearly to the 100k job (in truth SVG grows worse than linearly).
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { report } from './result';
import { buildHarness } from '../test/dashboard/helpers';

const REPO = join(__dirname, '..');
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'];
const SAMPLE = 20_173;

const BASELINE_SOURCE = `
import L from 'leaflet';
window.baseline = (n) => {
  const div = document.createElement('div');
  div.style.cssText = 'position:absolute;left:0;top:0;width:1000px;height:800px';
  document.body.appendChild(div);
  const map = L.map(div, { preferCanvas: false });
  const side = Math.ceil(Math.sqrt(n));
  map.fitBounds([[50, 11], [50 + side * 0.01, 11 + side * 0.01]]);
  let k = 0;
  for (let i = 0; i < side && k < n; i++) for (let j = 0; j < side && k < n; j++, k++) {
    const w = 11 + i * 0.01, s = 50 + j * 0.01;
    L.polygon([[s, w], [s, w + 0.01], [s + 0.01, w + 0.01], [s + 0.01, w]], { weight: 0.6, fillOpacity: 0.4 }).addTo(map);
  }
  // From navigation start, as the dashboard's figure is (the page loads nothing else first).
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now()))));
};
`;

async function bundle(dir: string): Promise<void> {
  await buildHarness(dir, { production: true });
  await build({
    absWorkingDir: REPO,
    stdin: { contents: BASELINE_SOURCE, resolveDir: REPO, loader: 'js' },
    outfile: join(dir, 'baseline.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    minify: true,
    logLevel: 'warning',
  });
  writeFileSync(join(dir, 'baseline.html'), '<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="harness.css"><script src="baseline.js"></script></head><body></body></html>');
}

interface Figures {
  tiles: number;
  firstPaintMs: number;
  longTasks: number;
  longestMs: number;
  heapMb: number;
  changes: number;
  /** How the tile layer drew the fitted view: `paths` or the aggregated `raster`. */
  mode: string;
}

async function measure(page: Page, url: string, side: number, fitGrid = false): Promise<Figures> {
  const tiles = side * side + 9;
  await page.goto(`${url}?grid=${side}${fitGrid ? '&fit=grid' : ''}`);
  // Every tile counted in the legend and drawn on the map's canvas (a raster pass records its tile count when it ends).
  await page.waitForFunction(
    `(() => { let n = 0; for (const el of document.querySelectorAll('[data-testid$="-count"]')) if (!/legend-split/.test(el.getAttribute('data-testid'))) n += Number(el.textContent); return n === ${tiles} && document.querySelector('.leaflet-tiles-pane canvas')?.dataset.tiles === '${tiles}'; })()`,
    undefined,
    { polling: 'raf', timeout: 120_000 },
  );
  const firstPaintMs = await page.evaluate<number>(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))`);
  const drawn = await page.evaluate<number>(`document.querySelectorAll('.leaflet-tiles-pane canvas').length`);
  const mode = await page.evaluate<string>(`document.querySelector('.leaflet-tiles-pane canvas')?.dataset.mode ?? ''`);
  if (drawn === 0) throw new Error('no tile canvas on the page');
  await page.waitForTimeout(1500);
  const burst = await page.evaluate<{ longTasks: number; longestMs: number; changes: number }>(`new Promise((resolve) => {
    const units = window.harness.unitCount();
    const states = ['submitting', 'queued', 'running', 'exported', 'downloading', 'verified', 'done', 'retrying'];
    const long = [];
    const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) long.push(e.duration); });
    observer.observe({ type: 'longtask' });
    let seed = 7, changes = 0, ticks = 0;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const at = new Date().toISOString();
    const timer = setInterval(() => {
      for (let k = 0; k < 100; k++) {
        const tile = window.harness.idAt(Math.floor(rand() * units));
        window.harness.emit({ type: 'tile-state', job: 'demo', tile, state: states[Math.floor(rand() * states.length)], attempt: 1, at });
        changes++;
      }
      if (++ticks === 100) {
        clearInterval(timer);
        setTimeout(() => { observer.disconnect(); resolve({ longTasks: long.length, longestMs: Math.max(0, ...long), changes }); }, 500);
      }
    }, 100);
  })`);
  const heapMb = await page.evaluate<number>(`(performance.memory ? performance.memory.usedJSHeapSize : 0) / 1048576`);
  return { tiles, firstPaintMs, heapMb, mode, ...burst };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ui-bench-'));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, timeout: 30_000 });
  try {
    await bundle(dir);
    const url = pathToFileURL(join(dir, 'harness.html')).href;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.route(/^https?:\/\//, (r) => r.abort());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    if (process.env.BENCH_UI_ONLY === '1m') {
      // Iterating on the million-unit map alone (bench/README.md): its two figures' measurements, no report.
      for (let k = 0; k < Number(process.env.BENCH_UI_REPEAT ?? 1); k++) {
        const trace = process.env.BENCH_UI_TRACE;
        if (trace) await browser.startTracing(page, { path: `${trace}.${k}.json`, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'v8', 'blink', 'cc', 'gpu'] });
        const f = await measure(page, url, 1000, true);
        if (trace) await browser.stopTracing();
        process.stderr.write(`ui ${f.tiles} tiles: first paint ${f.firstPaintMs.toFixed(0)} ms; ${f.longTasks} long task(s), longest ${f.longestMs.toFixed(0)} ms\n`);
      }
      return;
    }
    // Baseline: the naive map (SVG, one layer per tile) for a sample, scaled to N; median of 3.
    const basePage = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await basePage.goto(pathToFileURL(join(dir, 'baseline.html')).href);
    const runs: number[] = [];
    for (let k = 0; k < 3; k++) {
      await basePage.reload({ waitUntil: 'load' });
      runs.push(await basePage.evaluate<number>(`window.baseline(${SAMPLE})`, undefined));
    }
    await basePage.close();
    const sampleMs = runs.sort((a, b) => a - b)[1]!;
    const perTile = sampleMs / SAMPLE;

    const f20 = await measure(page, url, 142);
    const f100 = await measure(page, url, 317);
    // A million units (1000² + 9): at the fitted zoom the map draws its aggregated raster (docs/previews.md).
    const f1m = await measure(page, url, 1000, true);
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    const b20 = perTile * f20.tiles;
    const b100 = perTile * f100.tiles;
    for (const f of [f20, f100, f1m]) {
      process.stderr.write(
        `ui ${f.tiles} tiles: first paint ${f.firstPaintMs.toFixed(0)} ms; ${f.changes} state changes in 10 s → ${f.longTasks} long task(s), longest ${f.longestMs.toFixed(0)} ms; JS heap ${f.heapMb.toFixed(0)} MB\n`,
      );
    }
    process.stderr.write(`ui baseline: ${SAMPLE} tiles as SVG polygons, one layer each: ${sampleMs.toFixed(0)} ms (median of 3) → ${perTile.toFixed(3)} ms per tile\n`);
    const note = (f: Figures, b: number) =>
      `${f.tiles} tiles; baseline = one Leaflet SVG polygon per tile, ${SAMPLE} tiles measured (${sampleMs.toFixed(0)} ms) and scaled to ${f.tiles} (${(b / 1000).toFixed(1)} s); JS heap ${f.heapMb.toFixed(0)} MB after the burst`;
    for (const [label, f, b] of [['20k', f20, b20], ['100k', f100, b100]] as const) {
      report({
        name: `ui-${label}-first-paint`,
        value: Math.round(f.firstPaintMs),
        unit: 'ms',
        baseline: Math.round(b),
        ratio: Math.round((b / f.firstPaintMs) * 10) / 10,
        target: '< 1500 ms',
        pass: f.firstPaintMs < 1500,
        notes: note(f, b),
      });
      report({
        name: `ui-${label}-long-tasks`,
        value: f.longTasks,
        unit: 'long tasks > 50 ms',
        baseline: null,
        ratio: null,
        target: '0 during 10 s of 1,000 tile state changes per second',
        pass: f.longTasks === 0,
        notes: `${f.changes} changes; longest task ${f.longestMs.toFixed(0)} ms (0 = none over 50 ms); JS heap ${f.heapMb.toFixed(0)} MB`,
      });
    }
    report({
      name: 'ui-1m-first-paint',
      value: Math.round(f1m.firstPaintMs),
      unit: 'ms',
      baseline: Math.round(perTile * f1m.tiles),
      ratio: Math.round(((perTile * f1m.tiles) / f1m.firstPaintMs) * 10) / 10,
      target: '< 2000 ms',
      pass: f1m.firstPaintMs < 2000,
      notes: `${note(f1m, perTile * f1m.tiles)}; map drawn as ${f1m.mode}`,
    });
    report({
      name: 'ui-1m-long-tasks',
      value: f1m.longTasks,
      unit: 'long tasks > 50 ms',
      baseline: null,
      ratio: null,
      target: '0 during 10 s of 1,000 tile state changes per second',
      pass: f1m.longTasks === 0,
      notes: `${f1m.changes} changes; longest task ${f1m.longestMs.toFixed(0)} ms; JS heap ${f1m.heapMb.toFixed(0)} MB`,
    });
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`ui bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
