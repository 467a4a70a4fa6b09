import type { EngineEvent, JobProgress } from '../../shared/contract';
import { formatBytes } from './output';
import { readableWarning, WarningRollup } from '../core/engine/warnings';

/**
 * What `tessera run` shows: a live block redrawn in place on a terminal, plain lines otherwise (logs,
 * CI). Both are fed the engine's events.
 */
export interface RunDisplay {
  event(e: EngineEvent): void;
  close(): void;
}

export function progressLine(p: JobProgress): string {
  const t = p.tiles;
  const done = t.done ?? 0;
  // Planned tiles (a split tile counts once, done when all its parts are), with the parts apart: the total never jumps.
  const planned = p.planned ?? { total: p.total, done };
  const parts = [
    `${p.job}: ${planned.done}/${planned.total} done${p.split ? ` (${p.split.tiles} split into ${p.split.parts} parts, ${p.split.done} done)` : ''}`,
    `${p.queued} queued · ${p.running} running in EE`,
    `${(t.exported ?? 0) + (t.downloading ?? 0) + (t.verified ?? 0)} syncing`,
  ];
  if (t.failed) parts.push(`${t.failed} failed`);
  parts.push(formatBytes(p.bytesDownloaded));
  if (p.throughputPerHour) parts.push(`${p.throughputPerHour.toFixed(p.throughputPerHour < 10 ? 1 : 0)} tiles/h`);
  if (p.etaSeconds !== null && p.waiting !== 'paused') parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  if (p.waiting) parts.push(`waiting: ${p.waiting}`);
  return parts.join(' · ');
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86_400).toFixed(1)}d`;
}

export function createDisplay(out: NodeJS.WriteStream, log: (line: string) => void): RunDisplay {
  const tty = Boolean(out.isTTY);
  let last: JobProgress | undefined;
  let lastPlain = 0;
  let drawn = 0;
  const recent: string[] = [];
  const rollup = new WarningRollup();
  let closed = false;
  const draw = () => {
    if (!tty || !last) return;
    const lines = [progressLine(last), bar(last, Math.max(20, Math.min(60, (out.columns ?? 80) - 10))), ...recent.slice(-5)];
    out.write(`\x1b[${drawn}A\x1b[0J`.repeat(drawn ? 1 : 0) + lines.join('\n') + '\n');
    drawn = lines.length;
  };
  const timer = tty ? setInterval(draw, 500) : undefined;
  timer?.unref();
  return {
    event(e) {
      const line = describe(e);
      if (line) {
        log(line); // the job's log keeps every line; the screen gets repeats rolled up (warnings.ts)
        const shown = e.type === 'log' && e.level === 'warn' ? rollup.add(line) : [line];
        if (tty) recent.push(...shown);
        else if (worthAPlainLine(e)) for (const l of shown) out.write(l + '\n');
      }
      if (e.type === 'job-progress') {
        const finishedNow = e.progress.finished && !last?.finished;
        last = e.progress;
        if (!tty && (Date.now() - lastPlain > 10_000 || finishedNow)) {
          out.write(progressLine(e.progress) + '\n');
          lastPlain = Date.now();
        }
      }
    },
    close() {
      if (closed) return;
      closed = true;
      const rolled = rollup.flush();
      if (tty) recent.push(...rolled);
      else for (const l of rolled) out.write(l + '\n');
      if (timer) clearInterval(timer);
      draw();
    },
  };
}

/** Without a terminal every transition would flood the log: only outcomes and warnings get a line. */
function worthAPlainLine(e: EngineEvent): boolean {
  if (e.type === 'tile-state') return e.state === 'done' || e.state === 'failed' || e.state === 'cancelled';
  return e.type === 'log';
}

function describe(e: EngineEvent): string | undefined {
  switch (e.type) {
    case 'tile-state':
      return `${e.tile} ${e.state}${e.message ? `: ${e.message}` : ''}`;
    case 'log':
      return `${e.level === 'info' ? '' : `${e.level}: `}${e.level === 'warn' || e.level === 'error' ? readableWarning(e.message) : e.message}`;
    case 'quota':
      return undefined;
    case 'job-progress':
      return undefined;
  }
}

function bar(p: JobProgress, width: number): string {
  const planned = p.planned ?? { total: p.total, done: p.tiles.done ?? 0 };
  const done = Math.round((planned.done / Math.max(1, planned.total)) * width);
  return `[${'#'.repeat(done)}${'.'.repeat(width - done)}]`;
}
