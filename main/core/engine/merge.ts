import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ASSET_EXISTS, ASSET_MISSING, ASSET_QUOTA, EarthEngineError, type EeAsset, type ImageExport, type Operation, type TableExport } from '../google/earthengine';
import type { Job } from '../job/job-file';
import type { TileRecord } from '../job/state';
import { filePrefix } from '../sync/names';
import { Journal, readJournal } from '../../common/journal';
import { crashPoint } from './crash-points';
import { classifyTaskFailure } from './failures';
import { systemClock, type Clock } from '../ports/clock';

/**
 * The end of an asset job (issue 13): the tile assets become one result, and only then do the temporary
 * tile assets go.
 *
 * - Table jobs: one FeatureCollection, built server-side as `ee.FeatureCollection(ee.List([
 *   ee.FeatureCollection(tile), …])).flatten()` over at most MERGE_BATCH assets per expression (more
 *   tiles: intermediate assets `{folder}/{job}_merge_{level}_{k}`, merged again the same way), exported
 *   with `Export.table.toAsset` to `destination.mergedAsset` (default `{folder}/{job}`).
 * - Image jobs with `imageMerge: "mosaic"`: `ee.ImageCollection(folder).mosaic()` exported as one IMAGE
 *   asset on the job's grid (default `{folder}_mosaic`).
 *
 * Every step is journaled (`<state dir>/merge.jsonl`, fsynced) before it is taken: an export's requestId
 * and description before it is sent (a restart finds its operation by description, or re-sends the same
 * request), each verified output, the verification of the result, and each deletion. The tile assets are
 * deleted only after the result exists and holds exactly the sum of the tiles' features (tables) or the
 * grid's dimensions (mosaic); nothing but this job's own tile assets and intermediate assets in the job's
 * folder is ever deleted, and an asset already gone counts as deleted.
 */
export const MERGE_BATCH = 100;

export interface MergePort {
  getAsset(name: string): Promise<EeAsset | null>;
  listAssets(parent: string): Promise<EeAsset[]>;
  deleteAsset(name: string): Promise<void>;
  exportTable(x: TableExport): Promise<string>;
  exportImage(x: ImageExport): Promise<string>;
  getOperations(names: string[]): Promise<Map<string, Operation>>;
  listOperations(): Promise<Operation[]>;
}

export interface MergeOptions {
  /** The poll's time (default: the system clock; a time-scaled emulator's is scaledClock, ports/clock.ts). */
  clock?: Clock;
  signal?: AbortSignal;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface MergeResult {
  /** 0 merged (and cleaned) · 2 an export failed for good · 3 needs the user (missing tiles, count mismatch, quota) · 130 interrupted. */
  exitCode: 0 | 2 | 3 | 130;
  /** One line: what was made, or why nothing was deleted. */
  message: string;
  kind?: 'table' | 'mosaic';
  target?: string;
  tiles?: number;
  featureCount?: number;
  deleted?: number;
}

interface Step {
  /** `L{level}_{k}`; the final step is `final`. */
  id: string;
  level: number;
  inputs: string[];
  output: string;
}

interface Plan {
  kind: 'table' | 'mosaic';
  target: string;
  tiles: { name: string; count: number }[];
  steps: Step[];
  expected: number;
  /** Mosaics: the job's grid. */
  grid?: { crs: string; crsTransform: [number, number, number, number, number, number]; dimensions: [number, number] };
}

type Entry =
  | { t: 'plan'; plan: Plan }
  | { t: 'send'; step: string; attempt: number; requestId: string; description: string }
  | { t: 'op'; step: string; operation: string }
  | { t: 'step-done'; step: string; count: number }
  | { t: 'reset'; step: string }
  | { t: 'verified'; count: number }
  | { t: 'deleted'; name: string }
  | { t: 'finished' };

interface StepState {
  attempt: number;
  requestId?: string;
  description?: string;
  operation?: string;
  done: boolean;
  count?: number;
  retriesUsed: number;
}

/** The merge's own journal beside the job's (`merge.jsonl`): one JSON line per step, durable before the step. */
class MergeJournal {
  plan: Plan | undefined;
  steps = new Map<string, StepState>();
  verified: number | undefined;
  deleted = new Set<string>();
  finished = false;

  private journal: Journal<Entry> | undefined;

  /** Opens the merge's journal (main/common/journal.ts) and replays it. */
  static async open(stateDir: string): Promise<MergeJournal> {
    const j = new MergeJournal();
    j.journal = (await Journal.open<Entry>(join(stateDir, 'merge.jsonl'), (e) => j.apply(e))).journal;
    return j;
  }

  /** Replays the journal read-only (`tessera status`). */
  static async read(stateDir: string): Promise<MergeJournal> {
    const j = new MergeJournal();
    await readJournal<Entry>(join(stateDir, 'merge.jsonl'), (e) => j.apply(e));
    return j;
  }

  step(id: string): StepState {
    let s = this.steps.get(id);
    if (!s) this.steps.set(id, (s = { attempt: 0, done: false, retriesUsed: 0 }));
    return s;
  }

  private apply(e: Entry): void {
    switch (e.t) {
      case 'plan':
        this.plan = e.plan;
        break;
      case 'send': {
        const s = this.step(e.step);
        if (e.attempt > s.attempt && s.attempt > 0 && !s.done) s.retriesUsed++;
        Object.assign(s, { attempt: e.attempt, requestId: e.requestId, description: e.description, operation: undefined });
        break;
      }
      case 'op':
        this.step(e.step).operation = e.operation;
        break;
      case 'step-done':
        Object.assign(this.step(e.step), { done: true, count: e.count });
        break;
      case 'reset':
        Object.assign(this.step(e.step), { requestId: undefined, description: undefined, operation: undefined, done: false });
        break;
      case 'verified':
        this.verified = e.count;
        break;
      case 'deleted':
        this.deleted.add(e.name);
        break;
      case 'finished':
        this.finished = true;
        break;
    }
  }

  async append(e: Entry): Promise<void> {
    await this.journal!.append(e);
    this.apply(e);
  }

  async close(): Promise<void> {
    await this.journal?.close();
  }
}

/** Where a job's merge stands (for `tessera status`): null when none was started. */
export async function readMergeState(stateDir: string): Promise<{ target: string; tiles: number; state: 'merging' | 'cleaning' | 'done'; deleted: number } | null> {
  let j: MergeJournal;
  try {
    j = await MergeJournal.read(stateDir);
  } catch {
    return null;
  }
  if (!j.plan) return null;
  return { target: j.plan.target, tiles: j.plan.tiles.length, state: j.finished ? 'done' : j.verified !== undefined ? 'cleaning' : 'merging', deleted: j.deleted.size };
}

/** Whether the job asks for a merge at the end of `tessera run` (tables: yes unless `merge: false`). */
export function mergeWanted(job: Job, table: boolean): boolean {
  const m = job.assetMerge;
  if (!job.assetFolder || !m) return false;
  if (m.enabled !== undefined) return m.enabled;
  return table || m.image === 'mosaic';
}

/** The merged asset's name: `destination.mergedAsset`, else `{folder}/{job}` (tables) or `{folder}_mosaic`. */
export function mergeTarget(job: Job, kind: 'table' | 'mosaic'): string {
  return job.assetMerge?.target ?? (kind === 'table' ? `${job.assetFolder!}/${job.name}` : `${job.assetFolder!}_mosaic`);
}

/** How many assets a merge of `tiles` tile assets makes (intermediate ones and the result). */
export function mergeOutputCount(kind: 'table' | 'mosaic', tiles: number, batch = MERGE_BATCH): number {
  if (kind === 'mosaic') return 1;
  let n = 1;
  for (let current = tiles; current > batch; ) {
    current = Math.ceil(current / batch);
    n += current;
  }
  return n;
}

/** The steps of a table merge: batches of at most MERGE_BATCH inputs, level by level, the last one onto `target`. */
export function planSteps(job: Job, inputs: readonly string[], target: string, batch = MERGE_BATCH): Step[] {
  const steps: Step[] = [];
  let level = 0;
  let current = [...inputs];
  while (current.length > batch) {
    level++;
    const next: string[] = [];
    for (let k = 0; k * batch < current.length; k++) {
      const output = `${job.assetFolder!}/${job.name}_merge_${level}_${k}`;
      steps.push({ id: `L${level}_${k}`, level, inputs: current.slice(k * batch, (k + 1) * batch), output });
      next.push(output);
    }
    current = next;
  }
  steps.push({ id: 'final', level: level + 1, inputs: current, output: target });
  return steps;
}

class MergeStop extends Error {
  constructor(
    readonly exitCode: 2 | 3,
    message: string,
  ) {
    super(message);
  }
}

/** The grid all the job's tiles cover: crs, crsTransform and dimensions of their bounding box. */
function jobGrid(tiles: readonly TileRecord[]): NonNullable<Plan['grid']> {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  const first = tiles[0]!;
  const s = first.crsTransform[0];
  for (const t of tiles) {
    const [sx, , tx, , sy, ty] = t.crsTransform;
    x0 = Math.min(x0, tx);
    y1 = Math.max(y1, ty);
    x1 = Math.max(x1, tx + sx * t.dimensions[0]);
    y0 = Math.min(y0, ty + sy * t.dimensions[1]);
  }
  return { crs: first.crs, crsTransform: [s, 0, x0, 0, -s, y1], dimensions: [Math.round((x1 - x0) / s), Math.round((y1 - y0) / s)] };
}

/**
 * Merges the job's tile assets and deletes them once the result is verified; resumes from its journal.
 * `tiles`: the job's tiles (any state); every tile that is neither split nor skipped must be done.
 */
export async function mergeAssets(job: Job, tiles: readonly TileRecord[], ee: MergePort, options: MergeOptions = {}): Promise<MergeResult> {
  const folder = job.assetFolder;
  if (!folder) return { exitCode: 3, message: `${job.name} is not an asset job; nothing to merge` };
  const journal = await MergeJournal.open(job.stateDir);
  try {
    return await new Merger(job, folder, tiles, ee, options, journal).run();
  } catch (e) {
    if (e instanceof MergeStop) return { exitCode: e.exitCode, message: e.message };
    if (e instanceof EarthEngineError && !e.transient) return { exitCode: 2, message: `merge: ${e.message}; nothing more was deleted` };
    // Network trouble that outlasted the client's own retries: everything done so far is journaled.
    if (e instanceof EarthEngineError) return { exitCode: 3, message: `merge interrupted: ${e.message}; run tessera assets merge again to continue` };
    throw e;
  } finally {
    await journal.close();
  }
}

class Merger {
  constructor(
    private readonly job: Job,
    private readonly folder: string,
    private readonly tiles: readonly TileRecord[],
    private readonly ee: MergePort,
    private readonly options: MergeOptions,
    private readonly journal: MergeJournal,
  ) {}

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }

  async run(): Promise<MergeResult> {
    const plan = this.journal.plan ?? (await this.makePlan());
    const done = (extra = ''): MergeResult => ({
      exitCode: 0,
      kind: plan.kind,
      target: plan.target,
      tiles: plan.tiles.length,
      ...(plan.kind === 'table' ? { featureCount: plan.expected } : {}),
      deleted: this.journal.deleted.size,
      message: plan.kind === 'table'
        ? `${plan.target}: ${plan.expected} features merged from ${plan.tiles.length} tile assets${extra}`
        : `${plan.target}: a mosaic of ${plan.tiles.length} tile images, ${plan.grid!.dimensions[0]}×${plan.grid!.dimensions[1]} pixels${extra}`,
    });
    if (this.journal.finished) return done(' (merged before)');
    if (this.journal.verified === undefined) {
      for (const level of [...new Set(plan.steps.map((s) => s.level))].sort((a, b) => a - b)) {
        await this.runLevel(plan, plan.steps.filter((s) => s.level === level));
        if (this.options.signal?.aborted) return { exitCode: 130, message: 'merge interrupted; run it again to continue' };
      }
      await this.verify(plan);
      crashPoint('after-merge');
    }
    const cleaned = await this.cleanUp(plan);
    if (cleaned === null) return { exitCode: 130, message: 'clean-up interrupted; run the merge again to finish it' };
    await this.journal.append({ t: 'finished' });
    return done(this.job.cleanup === 'keep' ? '; tile assets kept (cleanup: keep)' : `; ${this.journal.deleted.size} temporary assets deleted`);
  }

  /** Checks every tile asset, then journals what will be merged (tile names and counts, steps). */
  private async makePlan(): Promise<Plan> {
    const leaves = this.tiles.filter((t) => t.state !== 'split' && t.state !== 'skipped');
    const notDone = leaves.filter((t) => t.state !== 'done');
    if (leaves.length === 0) throw new MergeStop(3, `${this.job.name}: no tile assets to merge`);
    if (notDone.length) throw new MergeStop(3, `${this.job.name}: ${notDone.length} tiles are not done (first: ${notDone[0]!.id} is ${notDone[0]!.state}); nothing was merged or deleted`);
    const listed = new Map((await this.ee.listAssets(this.folder)).map((a) => [a.name, a]));
    const names = leaves.map((t) => `${this.folder}/${filePrefix(this.job.name, t.id)}`);
    const missing = names.filter((n) => !listed.has(n));
    if (missing.length) throw new MergeStop(3, `${missing.length} tile assets are missing from ${this.folder} (first: ${missing[0]}); nothing was merged or deleted`);
    const types = new Set(names.map((n) => listed.get(n)!.type));
    if (types.size !== 1) throw new MergeStop(3, `the tile assets in ${this.folder} are of mixed types (${[...types].join(', ')}); nothing was merged or deleted`);
    const kind = types.has('TABLE') ? 'table' : 'mosaic';
    if (kind === 'mosaic' && !types.has('IMAGE')) throw new MergeStop(3, `the tile assets in ${this.folder} are ${[...types][0]}s; nothing to merge`);
    const target = mergeTarget(this.job, kind);
    const tiles = names.map((name) => ({ name, count: listed.get(name)!.featureCount ?? 0 }));
    // TESSERA_MERGE_BATCH: a smaller batch (tests exercise intermediate levels with few tiles).
    const batch = Number(process.env.TESSERA_MERGE_BATCH) > 1 ? Math.floor(Number(process.env.TESSERA_MERGE_BATCH)) : MERGE_BATCH;
    // A mosaic of this job's tile images by name: never another image that shares the folder.
    const steps = kind === 'table' ? planSteps(this.job, names, target, batch) : [{ id: 'final', level: 1, inputs: names, output: target }];
    // Never adopt (or later delete) an asset that was there before this merge began.
    for (const s of steps) {
      if (await this.ee.getAsset(s.output)) {
        throw new MergeStop(3, `${s.output} already exists; delete it or set "destination.mergedAsset" to another name (nothing was merged or deleted)`);
      }
    }
    const plan: Plan = { kind, target, tiles, steps, expected: tiles.reduce((n, t) => n + t.count, 0), ...(kind === 'mosaic' ? { grid: jobGrid(this.tiles.filter((t) => t.state === 'done')) } : {}) };
    await this.journal.append({ t: 'plan', plan });
    this.log('info', `merging ${tiles.length} tile assets into ${target} (${steps.length} export${steps.length === 1 ? '' : 's'})`);
    return plan;
  }

  /** Waits `seconds` of Google's time (the poll interval), or until the merge is stopped. */
  private sleep(seconds: number): Promise<void> {
    const clock = this.options.clock ?? systemClock;
    return clock.sleep(Math.max(10, clock.fromGoogle(seconds * 1000)), this.options.signal);
  }

  private descriptionOf(step: Step, attempt: number): string {
    return step.id === 'final' ? `${this.job.name}_merge_a${attempt}` : `${this.job.name}_merge_${step.id}_a${attempt}`;
  }

  /** Runs one level's exports (up to maxInFlight at once) until each output is verified. */
  private async runLevel(plan: Plan, steps: Step[]): Promise<void> {
    const counts = new Map<string, number>(plan.tiles.map((t) => [t.name, t.count]));
    for (const s of plan.steps) {
      const st = this.journal.steps.get(s.id);
      if (st?.done && st.count !== undefined) counts.set(s.output, st.count);
    }
    // Operations sent before a restart but not recorded: found by description.
    const unsure = steps.filter((s) => {
      const st = this.journal.steps.get(s.id);
      return st && !st.done && st.requestId && !st.operation;
    });
    if (unsure.length) {
      const byDescription = new Map((await this.ee.listOperations()).map((op) => [op.metadata?.description, op]));
      for (const s of unsure) {
        const op = byDescription.get(this.journal.step(s.id).description);
        if (op) await this.journal.append({ t: 'op', step: s.id, operation: op.name });
      }
    }
    let interval = this.job.poll.minSeconds;
    for (;;) {
      if (this.options.signal?.aborted) return;
      const open = steps.filter((s) => !this.journal.step(s.id).done);
      if (open.length === 0) return;
      let inFlight = open.filter((s) => this.journal.step(s.id).operation).length;
      for (const s of open) {
        const st = this.journal.step(s.id);
        if (st.operation) continue;
        if (!st.requestId) {
          if (inFlight >= this.job.maxInFlight) continue;
          const attempt = st.attempt + 1;
          await this.journal.append({ t: 'send', step: s.id, attempt, requestId: randomUUID(), description: this.descriptionOf(s, attempt) });
        }
        inFlight++;
        await this.send(plan, s);
      }
      const watched = open.filter((s) => this.journal.step(s.id).operation);
      const ops = await this.ee.getOperations(watched.map((s) => this.journal.step(s.id).operation!));
      let changed = false;
      let listing: Map<string, EeAsset> | undefined;
      for (const s of watched) {
        const st = this.journal.step(s.id);
        const op = ops.get(st.operation!);
        const state = op?.metadata?.state;
        if (state === 'SUCCEEDED' || (state === 'FAILED' && ASSET_EXISTS.exec(op?.error?.message ?? '')?.[1] === s.output)) {
          if (state === 'FAILED') this.log('info', `${s.output} was made by an earlier attempt: adopted`);
          changed = true;
          if (plan.kind === 'mosaic') {
            await this.journal.append({ t: 'step-done', step: s.id, count: 0 });
            continue;
          }
          listing ??= await this.listParentsOf(steps);
          const got = listing.get(s.output);
          if (!got) continue; // not listed yet: look again next cycle
          const want = s.inputs.reduce((n, i) => n + (counts.get(i) ?? 0), 0);
          if (got.featureCount !== want) {
            await this.journal.append({ t: 'reset', step: s.id });
            throw new MergeStop(3, `${s.output} holds ${got.featureCount ?? 0} features but its ${s.inputs.length} inputs hold ${want}; nothing was deleted (delete ${s.output} and run tessera assets merge again)`);
          }
          await this.journal.append({ t: 'step-done', step: s.id, count: want });
          counts.set(s.output, want);
        } else if (state === 'FAILED' || state === 'CANCELLED') {
          changed = true;
          await this.failed(s, op?.error?.message ?? `the merge export ${state.toLowerCase()}`);
        }
      }
      interval = changed ? this.job.poll.minSeconds : Math.min(this.job.poll.maxSeconds, interval * 1.5);
      await this.sleep(interval);
    }
  }

  private async listParentsOf(steps: Step[]): Promise<Map<string, EeAsset>> {
    const out = new Map<string, EeAsset>();
    for (const parent of new Set(steps.map((s) => s.output.slice(0, s.output.lastIndexOf('/'))))) {
      for (const a of await this.ee.listAssets(parent)) out.set(a.name, a);
    }
    return out;
  }

  private async failed(s: Step, message: string): Promise<void> {
    const st = this.journal.step(s.id);
    if (ASSET_QUOTA.test(message)) {
      await this.journal.append({ t: 'reset', step: s.id });
      throw new MergeStop(3, `the project's asset quota is full, so ${s.output} cannot be made (${message}); free assets and run tessera assets merge again (nothing was deleted)`);
    }
    if (classifyTaskFailure(message) === 'transient' && st.retriesUsed < this.job.retries) {
      this.log('warn', `${s.output}: ${message}; trying again`);
      await this.journal.append({ t: 'reset', step: s.id });
      return;
    }
    await this.journal.append({ t: 'reset', step: s.id });
    throw new MergeStop(2, `the merge export to ${s.output} failed: ${message}; nothing was deleted`);
  }

  private async send(plan: Plan, s: Step): Promise<void> {
    const st = this.journal.step(s.id);
    const requestId = st.requestId!;
    const description = st.description!;
    let name: string;
    try {
      if (plan.kind === 'table') {
        const inputs = s.inputs;
        name = await this.ee.exportTable({
          requestId, description, folder: '', fileNamePrefix: '', fileFormat: 'CSV', assetId: s.output,
          priority: this.job.export.priority,
          collection: (ee) => ee.FeatureCollection(ee.List(inputs.map((i) => ee.FeatureCollection(i)))).flatten(),
        });
      } else {
        const g = plan.grid!;
        const inputs = s.inputs;
        name = await this.ee.exportImage({
          requestId, description, folder: '', fileNamePrefix: '', assetId: s.output,
          crs: g.crs, crsTransform: g.crsTransform, dimensions: g.dimensions, fileDimensions: Math.max(...g.dimensions),
          maxPixels: Math.max(1e8, g.dimensions[0] * g.dimensions[1]), priority: this.job.export.priority,
          image: (ee) => ee.ImageCollection(inputs.map((i) => ee.Image(i))).mosaic(),
        });
      }
    } catch (e) {
      if (!(e instanceof EarthEngineError)) throw e;
      if (e.transient) {
        this.log('warn', `${s.output}: export not confirmed (${e.message}); re-sent with the same requestId`);
        return;
      }
      await this.failed(s, e.message);
      return;
    }
    await this.journal.append({ t: 'op', step: s.id, operation: name });
  }

  /** The result exists with every feature of the tiles (tables) or the job grid's size (mosaic). */
  private async verify(plan: Plan): Promise<void> {
    if (plan.kind === 'table') {
      const parent = plan.target.slice(0, plan.target.lastIndexOf('/'));
      const got = (await this.ee.listAssets(parent)).find((a) => a.name === plan.target);
      if (!got || got.type !== 'TABLE') throw new MergeStop(3, `${plan.target} is not a TABLE in Earth Engine after the merge; nothing was deleted`);
      if (got.featureCount !== plan.expected) {
        throw new MergeStop(3, `${plan.target} holds ${got.featureCount ?? 0} features but the ${plan.tiles.length} tile assets hold ${plan.expected}; nothing was deleted`);
      }
      await this.journal.append({ t: 'verified', count: plan.expected });
      this.log('info', `${plan.target}: verified, ${plan.expected} features`);
      return;
    }
    const got = await this.ee.getAsset(plan.target);
    const [w, h] = plan.grid!.dimensions;
    if (!got || got.type !== 'IMAGE') throw new MergeStop(3, `${plan.target} is not an IMAGE in Earth Engine after the merge; nothing was deleted`);
    if (!got.dimensions || got.dimensions[0] !== w || got.dimensions[1] !== h) {
      throw new MergeStop(3, `${plan.target} is ${got.dimensions ? `${got.dimensions[0]}×${got.dimensions[1]} pixels` : 'of unknown size'}, the job's grid ${w}×${h}; nothing was deleted`);
    }
    await this.journal.append({ t: 'verified', count: 0 });
    this.log('info', `${plan.target}: verified, ${w}×${h} pixels`);
  }

  /**
   * Deletes the job's tile assets and intermediate assets (each journaled; one already gone counts as
   * deleted). Only names this job made in its own folder: `{folder}/{job}_{tileId}` of its tiles and
   * `{folder}/{job}_merge_…`; never the result. null when interrupted.
   */
  private async cleanUp(plan: Plan): Promise<number | null> {
    if (this.job.cleanup === 'keep') return 0;
    const tileNames = new Set(this.tiles.map((t) => `${this.folder}/${filePrefix(this.job.name, t.id)}`));
    const intermediate = new RegExp(`^${this.folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/${this.job.name}_merge_\\d+_\\d+$`);
    const names = [...plan.steps.filter((s) => s.output !== plan.target).map((s) => s.output), ...plan.tiles.map((t) => t.name)];
    let deleted = 0;
    for (const name of names) {
      if (this.options.signal?.aborted) return null;
      if (this.journal.deleted.has(name)) continue;
      const inFolder = name.startsWith(`${this.folder}/`) && !name.slice(this.folder.length + 1).includes('/');
      if (!inFolder || name === plan.target || !(tileNames.has(name) || intermediate.test(name))) {
        this.log('warn', `not deleting ${name}: not one of this job's temporary assets in ${this.folder}`);
        continue;
      }
      try {
        await this.ee.deleteAsset(name);
      } catch (e) {
        if (!(e instanceof EarthEngineError && ASSET_MISSING.test(e.message))) throw e;
      }
      crashPoint('mid-cleanup');
      await this.journal.append({ t: 'deleted', name });
      deleted++;
    }
    return deleted;
  }
}
