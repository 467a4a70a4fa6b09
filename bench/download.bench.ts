/**
 * download-vs-curl, download-rss: one 1 GiB output in the emulator's Drive (made by a real export: one
 * UInt32 band of 16384 × 16384 pixels, one file since it is below `splitBytes`), served by `tessera
 * emulator` running as its own process, taken from the folder's listing as the engine takes it (size,
 * MD5, SHA-256). Tessera's downloader (the Drive adapter + `downloadVerified`: stream to `.part` while a
 * worker thread hashes, by SHA-256 when Drive gives it, one fsync, rename; docs/performance.md) runs in a child process that does nothing else (bundled by
 * esbuild and run by plain node, as the CLI ships), against `curl -o` on the same URL with the same bearer
 * token, alternately, in the same run (`sync` before each), 5 times each; medians are reported. Hashing
 * alone, and curl + sha256sum (md5sum) + sync (curl with Tessera's guarantees), are timed once for context,
 * and Tessera's download in a process that has also loaded the Earth Engine client (the engine's heap;
 * docs/performance.md, "Downloads") is timed in each round for context.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Drive } from '../main/core/google/drive';
import { EarthEngine, type EeModule } from '../main/core/google/earthengine';
import { emulatorSession } from '../main/core/google/session';
import { spawnEmulator, REPO } from './lib/emulator';
import { report } from './result';

const SIDE = Number(process.env.BENCH_DOWNLOAD_SIDE ?? 16384); // 16384² UInt32 = 1 GiB of pixels
const REPS = Number(process.env.BENCH_DOWNLOAD_REPS ?? 5);

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ ms: number; stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout, code }));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-download-'));
  const emu = await spawnEmulator(['--time-scale', '100000', '--data-dir', join(dir, 'emulator')]);
  try {
    const session = await emulatorSession(emu.url);
    const ee = await EarthEngine.connect(session);
    const t0 = Date.now();
    const op = await ee.exportImage({
      requestId: randomUUID(),
      description: 'bench-download',
      folder: 'bench-download',
      fileNamePrefix: 'bench-download',
      crs: 'EPSG:3035',
      crsTransform: [10, 0, 4_000_000, 0, -10, 3_000_000],
      dimensions: [SIDE, SIDE],
      fileDimensions: SIDE,
      maxPixels: SIDE * SIDE,
      image: (m: EeModule) => (m.Image.constant(1) as { toUint32(): unknown }).toUint32(),
    });
    for (;;) {
      const o = (await ee.getOperations([op])).get(op);
      if (o?.metadata?.state === 'SUCCEEDED') break;
      if (o?.done) throw new Error(`the export failed: ${o.error?.message}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    const files = (await emu.state()).files.filter((f) => f.name.startsWith('bench-download') && f.mimeType === 'image/tiff');
    if (files.length !== 1) throw new Error(`expected one output file, found ${files.length}`);
    // As the engine takes it: the folder listing through Tessera's Drive adapter (size, MD5, SHA-256).
    const listed = (await new Drive(session).listFolder(files[0]!.parents[0]!)).find((f) => f.id === files[0]!.id);
    if (!listed) throw new Error('the output is not in its folder’s listing');
    const file = { id: listed.id, name: listed.name, size: listed.size, md5: listed.md5, ...(listed.sha256 ? { sha256: listed.sha256 } : {}) };
    const makeS = (Date.now() - t0) / 1000;
    // What the download is verified by: Drive's SHA-256 when it gives one (docs/performance.md, "Downloads").
    const checksum = file.sha256 ? 'SHA-256' : 'MD5';
    const sumTool = file.sha256 ? 'sha256sum' : 'md5sum';
    const { token } = await session.accessToken();
    const url = `${emu.url}/drive/v3/files/${encodeURIComponent(file.id)}?alt=media`;
    process.stderr.write(
      `download: ${(file.size / 2 ** 30).toFixed(3)} GiB (${SIDE}×${SIDE} UInt32, one file, made by an export in ${makeS.toFixed(1)} s); ` +
        `emulator in its own process; ${REPS} alternating runs each of curl -o and Tessera's downloader (child process), medians\n`,
    );

    // One untimed pass first, so neither side is the first to read the fresh file through the emulator.
    await run('curl', ['-sS', '--fail', '-o', '/dev/null', '-H', `Authorization: Bearer ${token}`, url]);
    // The child runs as Tessera ships: bundled by esbuild, dependencies from node_modules, plain node
    // (no tsx loader in its memory).
    const child = join(REPO, 'out', 'bench', 'download-child.cjs');
    await build({ entryPoints: [join(__dirname, 'lib', 'download-child.ts')], outfile: child, bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', logLevel: 'warning' });
    const curlMs: number[] = [];
    const oursMs: number[] = [];
    const engineHeapMs: number[] = [];
    let engineHeapMb = 0;
    let childHeapMb = 0;
    const rssKb: number[] = [];
    let rssBeforeKb = 0;
    let md5Ms = 0;
    let curlCheckedMs = 0;
    for (let k = 0; k < REPS; k++) {
      const curlOut = join(dir, `curl-${k}.tif`);
      spawnSync('sync'); // neither run pays for the other's dirty pages
      const c = await run('curl', ['-sS', '--fail', '-o', curlOut, '-H', `Authorization: Bearer ${token}`, url]);
      if (c.code !== 0 || statSync(curlOut).size !== file.size) throw new Error(`curl failed (exit ${c.code})`);
      curlMs.push(c.ms);
      if (k === REPS - 1) {
        const h0 = performance.now();
        const hash = createHash(file.sha256 ? 'sha256' : 'md5');
        for await (const chunk of createReadStream(curlOut, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) hash.update(chunk);
        if (hash.digest('hex') !== (file.sha256 ?? file.md5)) throw new Error(`curl’s copy does not match Drive’s ${checksum}`);
        md5Ms = performance.now() - h0;
        // For context only: curl with the same guarantees as Tessera (checksum and flush to disk).
        spawnSync('sync');
        const checked = await run('sh', ['-c', `curl -sS --fail -o "$1" -H "Authorization: Bearer $2" "$3" && ${sumTool} "$1" >/dev/null && sync "$1"`, 'sh', `${curlOut}.2`, token, url]);
        if (checked.code !== 0) throw new Error(`curl + ${sumTool} + sync failed`);
        curlCheckedMs = checked.ms;
        rmSync(`${curlOut}.2`);
      }
      rmSync(curlOut);

      const ourOut = join(dir, `tessera-${k}.tif`);
      spawnSync('sync');
      const t = await run(process.execPath, [child, emu.url, JSON.stringify(file), ourOut], { BENCH_TOKEN: token });
      if (t.code !== 0) throw new Error(`Tessera's download child failed (exit ${t.code})`);
      const r = childResult(t.stdout, ourOut, file.size);
      oursMs.push(r.ms);
      rssKb.push(r.maxRssKb);
      rssBeforeKb = Math.max(rssBeforeKb, r.rssBeforeKb);
      childHeapMb = r.heapBeforeMb;
      rmSync(ourOut);
      // For context: the same download in a process that also holds the Earth Engine client, as the engine does.
      spawnSync('sync');
      const e = await run(process.execPath, [child, emu.url, JSON.stringify(file), ourOut], { BENCH_TOKEN: token, BENCH_ENGINE_HEAP: '1' });
      if (e.code !== 0) throw new Error(`Tessera's download child (engine heap) failed (exit ${e.code})`);
      const re = childResult(e.stdout, ourOut, file.size);
      engineHeapMs.push(re.ms);
      engineHeapMb = re.heapBeforeMb;
      rmSync(ourOut);
      process.stderr.write(`  run ${k + 1}: curl ${c.ms.toFixed(0)} ms · Tessera ${r.ms.toFixed(0)} ms, peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MB · with the engine's heap ${re.ms.toFixed(0)} ms\n`);
    }
    const curl = median(curlMs);
    const ours = median(oursMs);
    const mibps = (ms: number) => file.size / 2 ** 20 / (ms / 1000);
    const speed = curl / ours; // our throughput as a fraction of curl's
    report({
      name: 'download-vs-curl',
      value: Math.round(mibps(ours)),
      unit: 'MiB/s',
      baseline: Math.round(mibps(curl)),
      ratio: Number(speed.toFixed(2)),
      target: '≥ 0.8× curl’s throughput',
      pass: speed >= 0.8,
      notes:
        `${(file.size / 2 ** 30).toFixed(2)} GiB; median of ${REPS}: Tessera ${(ours / 1000).toFixed(2)} s (stream to .part + ${checksum} on a worker + fsync + rename; runs ${oursMs.map((m) => (m / 1000).toFixed(2)).join(', ')} s), ` +
        `curl -o ${(curl / 1000).toFixed(2)} s (no checksum, no fsync; runs ${curlMs.map((m) => (m / 1000).toFixed(2)).join(', ')} s); reading the file back and hashing it (${checksum}) alone takes ${(md5Ms / 1000).toFixed(2)} s in Node here; ` +
        `curl + ${sumTool} + sync (the same guarantees) ${(curlCheckedMs / 1000).toFixed(2)} s; ` +
        `the same download in a process holding the Earth Engine client as the engine does (heap ${engineHeapMb.toFixed(0)} MB against ${childHeapMb.toFixed(0)} MB) ${(median(engineHeapMs) / 1000).toFixed(2)} s (${(curl / median(engineHeapMs)).toFixed(2)}× curl)`,
    });
    const peakMb = Math.max(...rssKb) / 1024;
    report({
      name: 'download-rss',
      value: Math.round(peakMb),
      unit: 'MB',
      baseline: null,
      ratio: null,
      target: '< 150 MB peak RSS while downloading 1 GiB',
      pass: peakMb < 150,
      notes: `peak RSS of a process doing only Tessera's download (max of ${REPS}); ${(rssBeforeKb / 1024).toFixed(0)} MB before the download started (Node + the Drive client, bundled like the CLI)`,
    });
  } finally {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ChildResult {
  ms: number;
  bytes: number;
  rssBeforeKb: number;
  heapBeforeMb: number;
  maxRssKb: number;
}

/** The child's last line, checked against the file it wrote. */
function childResult(stdout: string, out: string, size: number): ChildResult {
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
  if (r.bytes !== size || statSync(out).size !== size) throw new Error(`Tessera downloaded ${r.bytes} of ${size} bytes`);
  return r;
}

main().catch((e: unknown) => {
  process.stderr.write(`download bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
