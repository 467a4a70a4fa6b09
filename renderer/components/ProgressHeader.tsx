import type { Command, TileState, WaitingReason } from '../../shared/contract';
import type { JobSummary } from '../../shared/dashboard';
import { useState } from 'react';
import { formatBytes, formatCount, formatDuration, formatHours } from '../format';

interface Props {
  summary: JobSummary;
  counts: Record<TileState, number>;
  onCommand: (cmd: Command) => void;
}

const WAITING_TEXT: Record<WaitingReason, string> = {
  quota: 'Drive is too full for the next output; waiting for downloads to free space',
  budget: 'the EECU budget would be exceeded by the next tile',
  'queue-full': "Earth Engine's queue is full; waiting",
  offline: 'offline; waiting for the network',
  'signed-out': 'signed out; sign in again',
  paused: 'paused',
  locked: 'another process drives this job',
  'asset-quota': "the project's Earth Engine asset quota is full; waiting for room",
};

/** The job at a glance (docs/dashboard.md#job-progress-tile-details-tile-search `job-progress`): done / total, EE, pace, ETA, EECU, waiting reason. */
export function ProgressHeader({ summary, counts, onCommand }: Props) {
  const p = summary.progress;
  // Planned tiles (a split tile counts once): the total does not jump as tiles split; parts are shown apart.
  const leaves = Object.entries(counts).reduce((s, [k, n]) => s + (k === 'split' ? 0 : n), 0);
  const total = p.planned?.total ?? leaves;
  const done = p.planned ? Math.min(p.planned.done, total) : counts.done;
  const fraction = total ? done / total : 0;
  const status = statusOf(summary, counts);
  const eecu = summary.eecu;
  const paused = p.waiting === 'paused';
  return (
    <section className="progress" data-testid="job-progress" aria-label={`Progress of ${summary.name}`}>
      <div className="progress-main">
        <span className={`status-chip ${status.tone}`} data-testid="job-status">
          {status.text}
        </span>
        <span className="done-total" data-testid="job-done">
          <strong>{formatCount(done)}</strong> / {formatCount(total)} tiles done
          {p.split && (
            <span className="muted" data-testid="job-split">
              {' '}
              ({formatCount(p.split.tiles)} split into {formatCount(p.split.parts)} parts, {formatCount(p.split.done)} done)
            </span>
          )}
        </span>
        <div
          className="bar"
          role="progressbar"
          aria-label="Tiles done"
          aria-valuemin={0}
          aria-valuemax={total}
          aria-valuenow={done}
          aria-valuetext={`${done} of ${total} tiles done${counts.failed ? `, ${counts.failed} failed` : ''}`}
        >
          <span className="bar-fill" style={{ width: `${(fraction * 100).toFixed(2)}%` }} />
          {counts.failed > 0 && <span className="bar-failed" style={{ width: `${((counts.failed / Math.max(1, total)) * 100).toFixed(2)}%` }} />}
        </div>
        {counts.failed > 0 && (
          <button type="button" data-testid="job-retry-failed" onClick={() => onCommand({ type: 'retry-failed', job: summary.name })} title="Send every failed tile back to the queue (tessera retry --failed)">
            Retry all failed ({formatCount(counts.failed)})
          </button>
        )}
        {summary.running && (
          <span className="actions">
            {paused ? (
              <button type="button" onClick={() => onCommand({ type: 'resume', job: summary.name })}>
                Resume
              </button>
            ) : (
              <button type="button" onClick={() => onCommand({ type: 'pause', job: summary.name })} title="Send nothing new to Earth Engine; what runs finishes and is downloaded">
                Pause
              </button>
            )}
            <button
              type="button"
              className="danger"
              data-testid="job-cancel"
              onClick={() => {
                if (window.confirm(`Cancel ${summary.name}? Its tasks in Earth Engine are cancelled; tiles already done stay.`)) onCommand({ type: 'cancel', job: summary.name });
              }}
            >
              Cancel job
            </button>
          </span>
        )}
      </div>
      <dl className="figures">
        <div>
          <dt>In Earth Engine</dt>
          <dd data-testid="job-ee">
            {counts.running} running · {counts.queued + counts.submitting} queued
          </dd>
        </div>
        <div>
          <dt>In Drive</dt>
          <dd>{counts.exported + counts.downloading + counts.verified} syncing</dd>
        </div>
        <div>
          <dt>Pace</dt>
          <dd>{p.throughputPerHour ? `${p.throughputPerHour < 10 ? p.throughputPerHour.toFixed(1) : Math.round(p.throughputPerHour)} tiles/h` : '–'}</dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd data-testid="job-eta">{p.finished || !summary.running ? '–' : paused ? 'paused' : p.etaSeconds !== null ? formatDuration(p.etaSeconds) : 'measuring…'}</dd>
        </div>
        <div>
          <dt>EECU</dt>
          <dd>
            {formatHours(eecu.usedSeconds)} used
            {eecu.projectedSeconds !== null && ` · ~${formatHours(eecu.projectedSeconds)} projected`}
            {eecu.budgetSeconds !== null && ` · budget ${formatHours(eecu.budgetSeconds)}`}
          </dd>
        </div>
        <div>
          <dt>Downloaded</dt>
          <dd title="outputs downloaded and verified so far">{formatBytes(summary.drive.downloadedBytes)}</dd>
        </div>
        {p.waiting && (
          <div className="waiting" data-testid="job-waiting">
            <dt>Waiting</dt>
            <dd>
              <span className="waiting-reason">{p.waiting}</span> {WAITING_TEXT[p.waiting]}
            </dd>
          </div>
        )}
      </dl>
      {summary.results && <Results results={summary.results} />}
      {summary.outcome && summary.outcome.exitCode !== 0 && summary.outcome.message && (
        <p className={`outcome ${status.tone}`} title={summary.outcome.message}>
          {summary.outcome.message}
        </p>
      )}
    </section>
  );
}

function statusOf(summary: JobSummary, counts: Record<TileState, number>): { text: string; tone: string } {
  if (summary.running) {
    if (summary.progress.waiting === 'paused') return { text: 'paused', tone: 'warn' };
    if (summary.progress.waiting) return { text: `waiting: ${summary.progress.waiting}`, tone: 'warn' };
    return { text: 'running', tone: 'busy' };
  }
  const o = summary.outcome;
  if (!o) return { text: 'not running', tone: 'idle' };
  if (o.exitCode === 0) return { text: 'finished', tone: 'ok' };
  if (o.exitCode === 2) return { text: `finished · ${counts.failed} failed`, tone: 'bad' };
  if (o.exitCode === 3) return { text: 'needs you', tone: 'bad' };
  if (o.exitCode === 130) return { text: 'stopped', tone: 'idle' };
  return { text: 'error', tone: 'bad' };
}

/**
 * What a finished job left on the serving machine: the mosaic (open it in QGIS), the summary and the
 * folder. They are paths on that machine (a page cannot open local files), each with a copy button.
 */
function Results({ results }: { results: NonNullable<JobSummary['results']> }) {
  const [copied, setCopied] = useState('');
  const rows: [string, string, string | null][] = [
    ['mosaic', 'Mosaic (VRT, band names and NoData)', results.mosaic],
    ['summary', 'Summary', results.summary],
    ['folder', 'Output folder', results.folder],
  ];
  const copy = async (path: string) => {
    try {
      await navigator.clipboard.writeText(path);
      setCopied(`copied ${path}`);
    } catch {
      setCopied('copying is not allowed here: select the path instead');
    }
  };
  return (
    <div className="results" data-testid="job-results" aria-label="Results">
      <h3>Results</h3>
      <ul>
        {rows.map(([key, label, path]) =>
          path ? (
            <li key={key} data-testid={`job-result-${key}`}>
              <span className="result-label">{label}</span> <code className="path">{path}</code>{' '}
              <button type="button" onClick={() => void copy(path)} aria-label={`Copy the path of the ${label.toLowerCase()}`}>
                Copy path
              </button>
            </li>
          ) : null,
        )}
      </ul>
      <span className="muted" role="status">
        {copied}
      </span>
    </div>
  );
}
