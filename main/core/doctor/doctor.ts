import { constants } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DoctorCheck, DoctorCheckId, DoctorReport } from '../../../shared/doctor';
import { formatBytes } from '../../../shared/units';
import { MissingAccessError, missingAccess, missingAccessMessage } from '../auth/scopes';
import { builtInBytesPerPixel } from '../engine/recipe';
import { planTiles } from '../engine/plan';
import type { EarthEngine, Operation } from '../google/earthengine';
import { Drive } from '../google/drive';
import type { GoogleEndpoints, Session } from '../google/session';
import type { Job } from '../job/job-file';
import { readJobState } from '../job/repository';
import type { TileRecord } from '../job/state';
import { httpFetch } from '../net/http';
import { isTransientEeMessage } from '../google/transient';
import { DriveFolderReader } from './drive-folder';
import { foreignOperations, foreignOutputFiles, leaseFileName, readLease } from './ownership';
import { gcsFolderVerdict, isServiceAccountEmail, serviceAccountDriveWarning } from '../gcs/doctor';
import { gcsClientFor } from '../gcs/session-client';

/**
 * `tessera doctor` (docs/signin-and-doctor.md#doctor): everything a run needs, checked before a run, each `ok`, `warn` or
 * `fail` with one line that says the fix. Shared by the CLI, `tessera serve` and the desktop app; the
 * rules are in docs/signin-and-doctor.md. Read-only: no export is submitted, nothing in Drive or the output
 * folder changes.
 */
export interface DoctorDeps {
  /** Signs in as a run would (the stored sign-in, or the emulator's own); throws as a run would. */
  session(): Promise<Session>;
  /** Earth Engine for that session (the hosts' own client in the dashboards; one client per process). */
  earthEngine(session: Session): Promise<Pick<EarthEngine, 'listOperations'>>;
  /** Where Google (or the emulator) answers, for the clock. */
  endpoints: GoogleEndpoints;
  /** With a job: the folder and output checks too. */
  job?: Job;
  /** The local clock (tests move it). */
  now?(): number;
}

/** Clock offsets above this are worth a warning (OAuth and Earth Engine compare times). */
const CLOCK_WARN_MS = 5 * 60_000;

export async function runDoctor(deps: DoctorDeps): Promise<DoctorReport> {
  const now = deps.now ?? Date.now;
  const checks = new Map<DoctorCheckId, DoctorCheck>();
  const put = (id: DoctorCheckId, status: DoctorCheck['status'], message: string) => checks.set(id, { id, status, message });
  const skipped = (why: string) => `not checked: ${why}`;
  /** Why the checks that need a session did not run. */
  let noSession = 'needs a working sign-in (see credentials)';

  // ---- credentials and scopes
  let session: Session | undefined;
  try {
    session = await deps.session();
    await session.accessToken(true);
    put('credentials', ...credentialsVerdict(session, now()));
    const scope = session.grant?.().scope ?? null;
    // A service account's token was checked for Earth Engine and Cloud Storage when it was made (auth/service-account.ts).
    if (isServiceAccountEmail(session.email)) put('scopes', 'ok', 'service account: Earth Engine and Cloud Storage access granted');
    else if (scope === null) put('scopes', 'warn', 'Google did not say which access it granted; runs will stop if Earth Engine or Drive access is missing');
    else {
      const missing = missingAccess(scope);
      put('scopes', missing.length ? 'fail' : 'ok', missing.length ? missingAccessMessage(missing) : 'Earth Engine and Google Drive access granted');
    }
  } catch (e) {
    if (e instanceof MissingAccessError) {
      put('credentials', 'ok', `${session?.email ? `signed in as ${session.email}; ` : ''}Google accepts the sign-in`);
      put('scopes', 'fail', missingAccessMessage(e.missing));
      noSession = 'needs a sign-in with the access above';
    } else {
      put('credentials', 'fail', oneLine(e));
      put('scopes', 'warn', skipped(noSession));
    }
    session = undefined;
  }

  // ---- Earth Engine
  let operations: Operation[] | undefined;
  if (session) {
    try {
      const signed = session;
      operations = await retrying(async () => (await deps.earthEngine(signed)).listOperations());
      put('earthengine', 'ok', `project ${session.project} answers (${operations.length} recent task${operations.length === 1 ? '' : 's'})`);
    } catch (e) {
      put('earthengine', 'fail', `project ${session.project}: ${oneLine(e)} — check the project id ("ee": { "project" } in the job, or tessera login --project) and that it is registered for Earth Engine`);
    }
  } else put('earthengine', 'warn', skipped(noSession));

  // ---- the job's tiles, for estimates and ownership
  const job = deps.job;
  let tiles: Record<string, TileRecord> | undefined;
  let plan: { count: number; tileBytes: number; leftBytes: number } | undefined;
  if (job) {
    const state = await readJobState(job.stateDir).catch(() => undefined);
    tiles = state?.tiles ?? {};
    const bpp = builtInBytesPerPixel(job.export.dataType);
    const records = Object.values(tiles);
    const dims = records.length ? records.filter((t) => t.state !== 'split').map((t) => ({ d: t.dimensions, left: !['done', 'skipped', 'cancelled', 'failed'].includes(t.state) })) : (await planTiles(job)).tiles.map((t) => ({ d: t.dimensions, left: true }));
    const bytes = (d: readonly [number, number]) => d[0] * d[1] * bpp;
    plan = {
      count: dims.length,
      tileBytes: Math.max(0, ...dims.map((t) => bytes(t.d))),
      leftBytes: dims.filter((t) => t.left).reduce((s, t) => s + bytes(t.d), 0),
    };
  }

  // ---- Drive
  if (job?.gcs) put('drive', 'ok', `Cloud Storage job: Drive is not used (exports go to gs://${job.gcs.bucket}/${job.gcs.prefix})`);
  else if (session && job && isServiceAccountEmail(session.email)) put('drive', ...serviceAccountDriveWarning(session.email!));
  else if (session && !job?.assetFolder) {
    try {
      const drive = new Drive(session);
      const q = await retrying(() => drive.quota());
      if (q.limit === null) put('drive', 'ok', `Drive answers; no storage limit`);
      else {
        const free = q.limit - q.usage;
        const reserve = job?.driveReserveBytes ?? 0;
        const need = plan ? plan.tileBytes : 0;
        const fits = plan && plan.tileBytes > 0 ? Math.floor((free - reserve) / plan.tileBytes) : Infinity;
        const trash = q.usageInDriveTrash > 0 ? ` (${formatBytes(q.usageInDriveTrash)} of it in the trash: emptying it frees that)` : '';
        if (plan && free - reserve < need) put('drive', 'fail', `Drive has ${formatBytes(free)} free${reserve ? `, ${formatBytes(reserve)} of it kept in reserve` : ''}: not enough for one tile's output (up to ${formatBytes(need)}); free space in Drive${trash}`);
        else if (plan && job && fits < job.maxInFlight) put('drive', 'warn', `Drive has ${formatBytes(free)} free: only ${fits} export${fits === 1 ? '' : 's'} fit at once (maxInFlight is ${job.maxInFlight}), so the job will wait for space; free space in Drive to go faster${trash}`);
        else put('drive', 'ok', `Drive answers; ${formatBytes(free)} free of ${formatBytes(q.limit)}${plan ? ` (a tile's output is up to ${formatBytes(plan.tileBytes)}; files leave Drive as they are downloaded)` : ''}`);
      }
    } catch (e) {
      put('drive', 'fail', `Google Drive: ${oneLine(e)}`);
    }
  } else if (job?.assetFolder) put('drive', 'ok', `asset job: Drive is not used`);
  else put('drive', 'warn', skipped(noSession));

  // ---- the job's Drive folder and output folder
  if (job) {
    if (job.assetFolder) put('folder', 'ok', `asset job: exports go to ${job.assetFolder}, no Drive folder`);
    else if (job.gcs && session) {
      try {
        put('folder', ...(await retrying(() => gcsFolderVerdict(gcsClientFor(session!), job, now()))));
      } catch (e) {
        put('folder', 'fail', `gs://${job.gcs.bucket}/${job.gcs.prefix}: ${oneLine(e)}`);
      }
    }
    else if (!session) put('folder', 'warn', skipped(noSession));
    else {
      try {
        put('folder', ...(await retrying(() => folderVerdict(session!, job, tiles ?? {}, operations, now()))));
      } catch (e) {
        put('folder', 'fail', `the Drive folder ${job.driveFolder}: ${oneLine(e)}`);
      }
    }
    put('output', ...(await outputVerdict(job, plan)));
  }

  // ---- clock
  put('clock', ...(await clockVerdict(deps.endpoints, now)));

  const order: DoctorCheckId[] = ['credentials', 'scopes', 'earthengine', 'drive', 'folder', 'output', 'clock'];
  return { checks: order.flatMap((id) => (checks.has(id) ? [checks.get(id)!] : [])) };
}

/**
 * A check's request again after a lost answer or a 5xx/429 (Google's transient wordings), at most three
 * tries half a second and a second apart: one network hiccup is not a finding.
 */
async function retrying<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (e) {
      if (attempt >= 3 || !isTransientEeMessage(oneLine(e))) throw e;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** 0 when nothing failed, 3 when a check failed that the user must fix (docs/signin-and-doctor.md#doctor). */
export function doctorExitCode(report: DoctorReport): 0 | 3 {
  return report.checks.some((c) => c.status === 'fail') ? 3 : 0;
}

export type Verdict = [DoctorCheck['status'], string];

/**
 * A refreshable sign-in is ok. Whether its OAuth client is in "Testing" status (sign-ins end 7 days after
 * consent) Google does not say; it can only be seen when the token response carries
 * `refresh_token_expires_in`, and then it is a warning with the date.
 */
export function credentialsVerdict(session: Pick<Session, 'email' | 'grant'>, now: number): Verdict {
  const who = session.email ? `signed in as ${isServiceAccountEmail(session.email) ? 'the service account ' : ''}${session.email}` : 'signed in';
  const ends = session.grant?.().refreshTokenExpiresAt ?? null;
  if (ends !== null) {
    const days = Math.max(0, (ends - now) / 86_400_000);
    return ['warn', `${who}, but Google says this sign-in ends on ${new Date(ends).toISOString().slice(0, 16).replace('T', ' ')} UTC (in ${days.toFixed(1)} days) — an OAuth client in "Testing" publishing status: publish it ("In production") in the Google Cloud console and sign in again, or a job running past that date stops`];
  }
  return ['ok', `${who}; Google accepts the sign-in`];
}

async function folderVerdict(session: Session, job: Job, tiles: Record<string, TileRecord>, operations: Operation[] | undefined, now: number): Promise<Verdict> {
  const drive = new DriveFolderReader(session);
  const folders = await drive.foldersNamed(job.driveFolder);
  const files = (await Promise.all(folders.map((f) => drive.files(f.id)))).flat();
  const problems: Verdict[] = [];
  const lease = files.find((f) => f.name === leaseFileName(job.name));
  if (lease) {
    const info = readLease(await drive.text(lease.id).catch(() => ''), now, lease.createdTime);
    const who = `${info.host ?? 'an unknown host'}${info.pid !== null ? ` (pid ${info.pid})` : ''}`;
    const age = info.heartbeatMs === null ? 'an unreadable heartbeat' : `its heartbeat ${Math.round((now - info.heartbeatMs) / 60_000)} min ago`;
    if (info.live) problems.push(['fail', `another run holds this job: ${who}, ${age}; a run here would stop (locked) — stop that one first, or wait 15 minutes after it crashed`]);
    else problems.push(['warn', `a stale lease of ${who} (${age}) is in the folder; the next run takes it over`]);
  }
  if (operations) {
    const foreign = foreignOperations(job.name, operations, tiles);
    if (foreign.live.length) problems.push(['fail', `${foreign.live.length} Earth Engine task${foreign.live.length === 1 ? '' : 's'} of this job (e.g. ${foreign.live[0]!.metadata?.description}) still run${foreign.live.length === 1 ? 's' : ''} but ${foreign.live.length === 1 ? 'is' : 'are'} not in its journal (another machine, or a lost journal): a run would stop (locked) — let them finish there, or take them over with tessera run --adopt`]);
    if (foreign.ended.length) problems.push(['warn', `${foreign.ended.length} finished Earth Engine task${foreign.ended.length === 1 ? '' : 's'} of this job (e.g. ${foreign.ended[0]!.metadata?.description}) ${foreign.ended.length === 1 ? 'is' : 'are'} not in its journal; tessera run --adopt takes over their outputs`]);
  }
  const foreignFiles = foreignOutputFiles(job.name, files, tiles);
  if (foreignFiles.length) {
    problems.push(['warn', `${foreignFiles.length} file${foreignFiles.length === 1 ? '' : 's'} in the Drive folder ${job.driveFolder} carr${foreignFiles.length === 1 ? 'ies' : 'y'} this job's output names but ${foreignFiles.length === 1 ? 'was' : 'were'} not made by its exports (e.g. ${foreignFiles[0]!.name}: an earlier run, or your own); Tessera never downloads or deletes ${foreignFiles.length === 1 ? 'it' : 'them'} — move or delete leftovers yourself, or give the job another name or folder`]);
  }
  const worst = problems.find((p) => p[0] === 'fail') ?? problems[0];
  if (worst) return problems.length > 1 ? [worst[0], `${worst[1]} (and ${problems.length - 1} more: ${problems.filter((p) => p !== worst).map((p) => p[1].split(/[:;]/)[0]).join('; ')})`] : worst;
  if (!folders.length) return ['ok', `the Drive folder ${job.driveFolder} does not exist yet; Earth Engine makes it with the first export`];
  return ['ok', `the Drive folder ${job.driveFolder}${folders.length > 1 ? ` (${folders.length} folders of that name; Earth Engine writes to the most recently modified)` : ''} holds nothing foreign, no other run, no foreign task`];
}

async function outputVerdict(job: Job, plan: { count: number; tileBytes: number; leftBytes: number } | undefined): Promise<Verdict> {
  if (job.assetFolder) return ['ok', `asset job: the tiles stay in Earth Engine; nothing large is written to ${job.output}`];
  // The folder, or the nearest folder above it that exists (a run creates the rest).
  let dir = job.output;
  for (let k = 0; k < 64; k++) {
    const ok = await access(dir, constants.F_OK).then(() => true, () => false);
    if (ok) break;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  try {
    await access(dir, constants.W_OK);
  } catch (e) {
    return ['fail', `cannot write to ${dir} (${(e as NodeJS.ErrnoException).code ?? oneLine(e)}): choose another output folder in the job, or fix its permissions`];
  }
  const fs = await statfs(dir).catch(() => undefined);
  if (!fs || !plan) return ['ok', `${job.output} can be written`];
  const free = fs.bavail * fs.bsize;
  if (free < plan.tileBytes) return ['fail', `the disk of ${job.output} has ${formatBytes(free)} free: not enough for one tile (up to ${formatBytes(plan.tileBytes)}); free space, or choose an output folder on another disk`];
  if (free < plan.leftBytes) return ['warn', `the disk of ${job.output} has ${formatBytes(free)} free, and the tiles still to come may take up to ${formatBytes(plan.leftBytes)} (uncompressed); free space, or choose an output folder on another disk`];
  return ['ok', `${job.output} can be written; ${formatBytes(free)} free for up to ${formatBytes(plan.leftBytes)} of outputs`];
}

/** The offset of this computer's clock from Google's `Date` header (1 s resolution, half the round trip). */
async function clockVerdict(endpoints: GoogleEndpoints, now: () => number): Promise<Verdict> {
  try {
    const t0 = now();
    const r = await httpFetch(`${endpoints.eeBaseUrl}/`, { method: 'GET', signal: AbortSignal.timeout(10_000) });
    const t1 = now();
    await r.arrayBuffer().catch(() => undefined);
    const date = Date.parse(r.headers.get('date') ?? '');
    if (!Number.isFinite(date)) return ['warn', 'Google answered without a Date header: the clock could not be compared'];
    // The header is truncated to the second: compare with the middle of that second.
    const offset = date + 500 - (t0 + t1) / 2;
    const minutes = Math.abs(offset) / 60_000;
    if (Math.abs(offset) > CLOCK_WARN_MS) return ['warn', `this computer's clock is ${minutes.toFixed(0)} minutes ${offset > 0 ? 'behind' : 'ahead of'} Google's: sign-ins and schedules can fail; turn on automatic date and time in the system settings`];
    return ['ok', `this computer's clock is within ${Math.max(1, Math.round(Math.abs(offset) / 1000))} s of Google's`];
  } catch (e) {
    return ['warn', `Google's time could not be read (${oneLine(e)}); check the network`];
  }
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.replace(/^tessera: /, '');
}

