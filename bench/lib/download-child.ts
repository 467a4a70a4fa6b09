/**
 * A process that does only what the engine does to fetch one output: Tessera's Drive adapter (its media
 * request: google/drive-media.ts) and `downloadVerified` (stream to `.part`, SHA-256 or MD5 on a worker, fsync, rename). It prints one JSON
 * line: the wall time of the download and the process's peak RSS.
 *
 * Usage (bundled by bench/download.bench.ts into out/bench/): node download-child.cjs URL FILE_JSON OUT_PATH
 * (env BENCH_TOKEN: the bearer token; BENCH_ENGINE_HEAP=1: load the Earth Engine client first, as the
 * engine's process always has it, for context: V8 collects a heap of ~9 MB far more often while buffers
 * stream through it than one of ~40 MB; docs/performance.md, "Downloads")
 */
import { OAuth2Client } from 'google-auth-library';
import { Drive, type DriveFile } from '../../main/core/google/drive';
import { loadEarthEngineClient } from '../../main/core/google/ee-client';
import { googleEndpoints, type Session } from '../../main/core/google/session';
import { downloadVerified } from '../../main/core/sync/download';

async function main(): Promise<void> {
  const [url, fileJson, out] = process.argv.slice(2);
  const token = process.env.BENCH_TOKEN;
  if (!url || !fileJson || !out || !token) throw new Error('usage: download-child URL FILE_JSON OUT (BENCH_TOKEN set)');
  const file = JSON.parse(fileJson) as DriveFile;
  const client = new OAuth2Client();
  const expiresAt = Date.now() + 30 * 60_000;
  client.setCredentials({ access_token: token, expiry_date: expiresAt, token_type: 'Bearer' });
  const endpoints = googleEndpoints(url);
  const session: Session = { client, project: 'bench', endpoints, accessToken: async () => ({ token, expiresAt }) };
  const drive = new Drive(session);
  if (process.env.BENCH_ENGINE_HEAP === '1') loadEarthEngineClient();
  const heapBeforeMb = process.memoryUsage().heapUsed / 2 ** 20;
  const rssBeforeKb = process.resourceUsage().maxRSS;
  const t0 = process.hrtime.bigint();
  const bytes = await downloadVerified(file, out, (start) => drive.download(file.id, start));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ ms, bytes, rssBeforeKb, heapBeforeMb, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`download-child: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
