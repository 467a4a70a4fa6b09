import { appendFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { JobProgress } from '../../shared/contract';

/**
 * What `tessera run` writes around one session of a job: start and end markers in the job's log (so a
 * week of restarts reads as sessions), and what a stop leaves behind, said in words.
 */
export function logSessionMarker(logPath: string, line: string): void {
  try {
    appendFileSync(logPath, `${new Date().toISOString()} === ${line} ===\n`);
  } catch {
    // the log is a convenience: a run never fails for it
  }
}

export function sessionStartLine(command: string): string {
  return `session start: ${command} (pid ${process.pid} on ${hostname()})`;
}

/** The signal that stopped a run, as a person would name it. */
export function stopCause(signal: NodeJS.Signals | undefined): string {
  return signal === 'SIGINT' ? 'stopped by Ctrl-C' : signal ? `stopped by ${signal}` : 'stopped';
}

/** Where a job's exported outputs wait to be downloaded, in words: Drive, or its bucket (docs/cloud-storage.md). */
export function outputsPlace(job: { gcs?: { bucket: string; prefix: string } }): string {
  return job.gcs ? `Cloud Storage at gs://${job.gcs.bucket}${job.gcs.prefix ? `/${job.gcs.prefix}` : ''}` : 'Drive';
}

/**
 * After a stop: what ran on, what waits, and the one command that resumes. Tasks keep running in Earth
 * Engine (stopping Tessera does not cancel them); their outputs wait in Drive (or the job's bucket,
 * `place` from outputsPlace) for the next run.
 */
export function stopReport(cause: string, p: JobProgress, jobPath: string, place = outputsPlace({})): string[] {
  const inEe = p.queued + p.running;
  const syncing = (p.tiles.exported ?? 0) + (p.tiles.downloading ?? 0) + (p.tiles.verified ?? 0);
  const lines = [`${p.job}: ${cause} — ${p.tiles.done ?? 0}/${p.total} tiles done.`];
  if (inEe) lines.push(`  ${inEe} task${inEe === 1 ? '' : 's'} still in Earth Engine (${p.running} running, ${p.queued} queued): they go on there; the next run picks up their outputs (nothing is exported twice).`);
  if (syncing) lines.push(`  ${syncing} tile${syncing === 1 ? '' : 's'} exported and waiting in ${place} (downloads resume where they stopped).`);
  lines.push(`  resume with: tessera run ${jobPath}`);
  return lines;
}
