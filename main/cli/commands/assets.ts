import { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { UserError } from '../../core/errors';
import { deletePlanned, deletionPlan, listFolder } from '../../core/google/asset-browser';
import { EarthEngine, EarthEngineError } from '../../core/google/earthengine';
import { loadJobFile } from '../../core/job/job-file';
import { readJobState } from '../../core/job/repository';
import { acquireJobLock } from '../../core/job/lock';
import { mergeAssets } from '../../core/engine/merge';
import { scaledClock, systemClock } from '../../core/ports/clock';
import { filePrefix } from '../../core/sync/names';
import { connect } from '../connect';

/**
 * `tessera assets ls|rm|merge` (issue 13): browse an Earth Engine asset folder, delete assets with
 * confirmation, and merge the tile assets of an asset job (core/engine/merge.ts, shared with `tessera run`).
 */
const ASSET_NAME = /^projects\/[a-z0-9-]+\/assets\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

function checkName(name: string): string {
  const n = name.replace(/\/+$/, '');
  if (!ASSET_NAME.test(n)) throw new UserError(`"${name}" is not an asset name such as projects/my-project/assets/folder/asset`);
  return n;
}

async function earthEngine(emulator: string | undefined, name: string): Promise<EarthEngine> {
  const project = /^projects\/([^/]+)\//.exec(name)?.[1];
  const { session, timeScale } = await connect(emulator, project);
  return EarthEngine.connect(session, timeScale);
}

function eeFailure(e: unknown): never {
  if (e instanceof EarthEngineError && !e.transient) throw new UserError(e.message);
  throw e;
}

function human(bytes: number | undefined): string {
  if (bytes === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function assetsCommand(): Command {
  const cmd = new Command('assets').description('browse and clean up Earth Engine assets (asset folders of asset jobs)').exitOverride().showHelpAfterError('(run with --help for usage)');

  cmd
    .command('ls')
    .description('list an asset folder or image collection: type, size, update time, name (all pages)')
    .argument('<folder>', 'e.g. projects/my-project/assets/tiles')
    .option('-r, --recursive', 'list sub-folders and image collections too')
    .option('--json', 'print one JSON object: { assets: [{ name, type, sizeBytes, featureCount, updateTime }] }')
    .option('--emulator <url>', 'send every Google request to this emulator (signs in by itself)')
    .action(async (folder: string, opts: { recursive?: boolean; json?: boolean; emulator?: string }) => {
      const name = checkName(folder);
      const ee = await earthEngine(opts.emulator, name);
      // Every asset, however many (the dashboard's panel bounds its listing; the command line does not).
      const listed = await listFolder(ee, name, opts.recursive === true, Infinity);
      const assets = listed.assets.map(({ depth: _depth, ...a }) => a);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ folder: name, assets })}\n`);
        return;
      }
      const lines = assets.map((a) => `${a.type.padEnd(16)} ${human(a.sizeBytes).padStart(10)} ${(a.featureCount !== undefined ? `${a.featureCount} features` : '').padStart(14)} ${(a.updateTime ?? '').padEnd(24)} ${a.name}`);
      lines.push(`${assets.length} asset${assets.length === 1 ? '' : 's'} in ${name}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  cmd
    .command('rm')
    .description('delete assets; asks for confirmation unless --yes; never touches anything outside the named assets')
    .argument('<asset...>', 'asset names (projects/…/assets/…)')
    .option('-r, --recursive', 'delete folders and image collections with everything in them')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--emulator <url>', 'send every Google request to this emulator (signs in by itself)')
    .action(async (names: string[], opts: { recursive?: boolean; yes?: boolean; emulator?: string }) => {
      const targets = names.map(checkName);
      const ee = await earthEngine(opts.emulator, targets[0] as string);
      // Only the named assets and what is listed under them: nothing outside them is ever deleted.
      const { plan, missing } = await deletionPlan(ee, targets, opts.recursive === true, 'add --recursive to delete them too', Infinity);
      if (missing.length) throw new UserError(`Asset '${missing[0]}' does not exist or doesn't allow this operation.`);
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw new UserError(`refusing to delete ${plan.length} assets without confirmation: add --yes`);
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`delete ${plan.length} asset${plan.length === 1 ? '' : 's'} (${plan.slice(0, 3).join(', ')}${plan.length > 3 ? ', …' : ''})? [y/N] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) {
          process.stderr.write('nothing deleted\n');
          process.exitCode = 1;
          return;
        }
      }
      // Already gone (a second run after an interruption): nothing to do.
      const deleted = (await deletePlanned(ee, plan)).deleted.length;
      process.stdout.write(`deleted ${deleted} asset${deleted === 1 ? '' : 's'}\n`);
    });

  cmd
    .command('merge')
    .description('merge the tile assets of a finished asset job (tables: one FeatureCollection; images: the collection, or a mosaic), verify, then delete the temporary tile assets; resumes an interrupted merge')
    .argument('<job.json>', 'an asset job (destination.type "asset")')
    .option('--json', 'print one JSON object')
    .option('--emulator <url>', 'send every Google request to this emulator (signs in by itself)')
    .action(async (jobPath: string, opts: { json?: boolean; emulator?: string }) => {
      const job = await loadJobFile(jobPath);
      const folder = job.assetFolder;
      if (!folder) throw new UserError(`${jobPath} is not an asset job (set "destination": { "type": "asset", "folder": … })`);
      const lock = await acquireJobLock(job.stateDir, `tessera assets merge ${jobPath}`);
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const state = await readJobState(job.stateDir);
        const tiles = Object.values(state?.tiles ?? {});
        const leaves = tiles.filter((t) => t.state !== 'split' && t.state !== 'skipped');
        const notDone = leaves.filter((t) => t.state !== 'done');
        if (!state || leaves.length === 0 || notDone.length) throw new UserError(`${job.name}: ${notDone.length || 'no'} tiles not done yet; run tessera run ${jobPath} first`, 1);
        const { session, timeScale } = await connect(opts.emulator, /^projects\/([^/]+)\//.exec(folder)?.[1]);
        const ee = await EarthEngine.connect(session, timeScale);
        const parent = await ee.getAsset(folder).catch(eeFailure);
        if (parent?.type === 'IMAGE_COLLECTION' && job.assetMerge?.image !== 'mosaic') {
          // The image collection of the tiles is the merged result: check that every tile is in it.
          const listed = await ee.listAssets(folder).catch(eeFailure);
          const want = new Set(leaves.map((t) => `${folder}/${filePrefix(job.name, t.id)}`));
          const present = listed.filter((a) => want.has(a.name));
          const missing = [...want].filter((n) => !present.some((a) => a.name === n));
          if (missing.length) throw new UserError(`${missing.length} tile assets are missing from ${folder} (first: ${missing[0]}); run tessera run ${jobPath} again`, 3);
          const summary = { job: job.name, merged: folder, type: 'IMAGE_COLLECTION', tiles: present.length, sizeBytes: present.reduce((s, a) => s + (a.sizeBytes ?? 0), 0) };
          if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
          else process.stdout.write(`${folder}: an image collection of all ${present.length} tiles (${human(summary.sizeBytes)}); use ee.ImageCollection('${folder}').mosaic(), or set "destination.imageMerge": "mosaic" for one image\n`);
          return;
        }
        const r = await mergeAssets(job, tiles, ee, { clock: scaledClock(systemClock, timeScale), signal: abort.signal, log: (level, m) => {
          if (level !== 'info') process.stderr.write(`${level}: ${m}\n`);
        } });
        if (r.exitCode !== 0) throw new UserError(r.message.replace(/\n/g, ' '), r.exitCode === 130 ? 3 : r.exitCode);
        const summary = { job: job.name, merged: r.target, type: r.kind === 'table' ? 'TABLE' : 'IMAGE', tiles: r.tiles, ...(r.featureCount !== undefined ? { featureCount: r.featureCount } : {}), deleted: r.deleted };
        if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        else process.stdout.write(`${r.message}\n`);
      } finally {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        await lock.release();
      }
    });

  return cmd;
}
