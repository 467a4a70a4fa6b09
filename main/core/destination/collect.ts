import type { DriveFile } from '../google/drive';
import type { FileRecord } from '../job/state';
import { adoptLocalOutputs } from '../sync/adopt-local';
import { checkOutputGrids } from '../sync/grid-check';
import type { LeaseOutcome } from '../sync/lease';
import type { ListingWatch } from '../sync/listing';
import { safeOutputPath, unitOutputDir } from '../sync/names';
import { crashPoint } from '../engine/crash-points';
import type { DestinationContext, UnitRecord } from './port';

/**
 * What Drive and Cloud Storage destinations share once a unit's export succeeded: the ownership rule on
 * the listing (docs/ownership.md), late listings, adoption of a lost journal's local outputs, then
 * download → verify → grid check → cleanup → done. Each destination supplies its listing, download and
 * delete, and the words for its place ("Drive", "the bucket").
 */
export interface StorePlace {
  /** Where the outputs wait, in messages: "Drive", "the bucket". */
  readonly where: string;
  /** One output there: "file", "object". */
  readonly thing: string;
  /** Added to a failure whose copy stays there: "the Drive copy is kept". */
  readonly kept: string;
  /** A foreign listed file, named for the warning. */
  describe(f: DriveFile): string;
}

/** Foreign files of the job (docs/ownership.md): each warned about once, counted in the journal, never touched. */
export class ForeignFiles {
  private readonly seen: Set<string>;

  constructor(
    private readonly ctx: DestinationContext,
    private readonly place: StorePlace,
  ) {
    this.seen = new Set(ctx.store.state.meta.foreignFiles ?? []);
  }

  async note(unit: UnitRecord, files: readonly DriveFile[]): Promise<void> {
    const fresh = files.filter((f) => !this.seen.has(f.id));
    if (fresh.length === 0) return;
    for (const f of fresh) {
      this.seen.add(f.id);
      this.ctx.log('warn', `${unit.id}: ${this.place.describe(f)} (created ${f.createdTime ?? 'at an unknown time'}) is not this run's output: it is older than the task${unit.operationCreateTime ? ` (${unit.operationCreateTime})` : ''}, so it is left untouched`);
    }
    await this.ctx.store.append({ type: 'meta', patch: { foreignFiles: [...this.seen] } });
  }
}

/**
 * An exported unit: which listed files are its outputs. True once they are journaled for download; false
 * while the store has not listed them all yet, or when the unit ended here (failed, or exported again).
 */
export async function takeListedOutputs(ctx: DestinationContext, unit: UnitRecord, listing: readonly DriveFile[], watch: ListingWatch, foreign: ForeignFiles, place: StorePlace): Promise<boolean> {
  const { job, clock } = ctx;
  const d = watch.decide(unit, listing, {
    job: job.name,
    fileDimensions: ctx.fileDimensions(unit),
    table: ctx.outputKind === 'table',
    skipEmptyTiles: job.export.skipEmptyTiles === true,
    graceMs: ctx.scaledMs(job.listingGraceSeconds),
    minBackoffMs: ctx.scaledMs(job.poll.minSeconds),
    maxBackoffMs: ctx.scaledMs(job.poll.maxSeconds),
  }, clock.now());
  await foreign.note(unit, d.foreign);
  if (d.kind === 'wait') return false;
  if (d.kind === 'fail') {
    // The listing rule speaks of Drive; say the place the outputs really are.
    await ctx.setUnit(unit, { state: 'failed', error: place.where === 'Drive' ? d.message : d.message.replace(/\bDrive\b/g, 'Cloud Storage') });
    return false;
  }
  if (d.kind === 'gone') {
    // Adopted, and nothing there: the lost journal's own download, when its grid is the unit's.
    const local = await adoptLocalOutputs(unitOutputDir(job.output, unit.id), job.name, unit, job.export.skipEmptyTiles === true);
    if (local && 'files' in local) {
      await ctx.setUnit(unit, { state: 'downloading', files: local.files });
      ctx.log('info', `${unit.id}: its outputs are gone from ${place.where}; the local ${local.files.map((f) => f.name).join(', ')} ${local.files.length === 1 ? 'has' : 'have'} the tile's grid and ${local.files.length === 1 ? 'is' : 'are'} taken as done`);
      return true;
    }
    if (local && 'problem' in local) {
      await ctx.setUnit(unit, { state: 'failed', error: `${local.problem}; the local file was left as it is` });
      return false;
    }
    if (!d.graceOver) return false;
    ctx.log('warn', `${unit.id}: the adopted ${unit.operation} left no ${place.thing} in ${place.where} nor locally; exporting the tile again`);
    await ctx.setUnit(unit, { state: 'pending', adopted: false, error: undefined });
    return false;
  }
  const files: FileRecord[] = d.files.map((f) => ({ id: f.id, name: f.name, size: f.size, md5: f.md5, ...(f.sha256 ? { sha256: f.sha256 } : {}), verified: false, cleaned: false }));
  await ctx.setUnit(unit, { state: 'downloading', files });
  return true;
}

/** How one destination moves a journaled output: download it into `path` (verified), and clean it up. */
export interface OutputMoves {
  download(file: FileRecord, path: string): Promise<number>;
  /** Applies the job's cleanup to the stored copy (delete, trash, or nothing for keep). */
  clean(file: FileRecord): Promise<void>;
}

/**
 * A unit with its outputs journaled: each file downloaded and verified, the grid checked, and only then —
 * every byte on disk — the stored copies cleaned up; the unit is done. False when the grid check failed it.
 */
export async function finishUnit(ctx: DestinationContext, unit: UnitRecord, moves: OutputMoves, place: StorePlace): Promise<boolean> {
  const { job } = ctx;
  const dir = unitOutputDir(job.output, unit.id);
  for (const file of unit.files) {
    if (file.verified) continue;
    const transferred = await moves.download(file, safeOutputPath(dir, file.name));
    ctx.downloaded(transferred);
    crashPoint('after-rename');
    await ctx.setFile(unit, file.id, { verified: true });
  }
  if (unit.state !== 'verified') {
    // The grid, not only the bytes: a wrong grid fails the unit and keeps the stored copy.
    const problem = await checkOutputGrids(dir, unit, job.export.skipEmptyTiles === true);
    if (problem) {
      await ctx.setUnit(unit, { state: 'failed', error: `${problem}; ${place.kept}` });
      return false;
    }
    await ctx.setUnit(unit, { state: 'verified' });
  }
  for (const file of unit.files) {
    if (file.cleaned) continue;
    await moves.clean(file);
    crashPoint('after-cleanup');
    await ctx.setFile(unit, file.id, { cleaned: true });
  }
  await ctx.setUnit(unit, { state: 'done' });
  ctx.sizes.learn(unit);
  return true;
}

/** The line for a run that finds another run's live lease (docs/ownership.md, "One driver per job"). */
export function lockedMessage(job: string, holder: Extract<LeaseOutcome, { kind: 'locked' }>['holder'], where: string): string {
  const who = 'pid' in holder ? `${holder.host} (pid ${holder.pid}, last heartbeat ${holder.heartbeatAt})` : `${holder.host}${holder.heartbeatAt ? ` (changed ${holder.heartbeatAt})` : ''}`;
  return `the job is being run by ${who}: its lease .tessera-lease-${job}.json is in ${where}; nothing was sent. Stop that run first (a lease nobody renews expires 15 minutes after its last heartbeat)`;
}
