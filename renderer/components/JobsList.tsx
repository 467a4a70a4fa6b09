import { useState } from 'react';
import type { Command } from '../../shared/contract';
import type { DashboardStore, JobModel } from '../store';

interface Props {
  store: DashboardStore;
  /** Sends a contract command (App's `command()` path: errors go to the banner). */
  onCommand: (cmd: Command) => void;
}

/** A job's state in words: running / paused / waiting: reason / finished / cancelled / stopped / not running. */
export function jobState(j: JobModel): { text: string; tone: 'busy' | 'warn' | 'ok' | 'bad' | 'idle' } {
  const s = j.summary;
  if (s.running) {
    if (s.progress.waiting === 'paused') return { text: 'paused', tone: 'warn' };
    if (s.progress.waiting) return { text: `waiting: ${s.progress.waiting}`, tone: 'warn' };
    return { text: 'running', tone: 'busy' };
  }
  if (!s.outcome) return { text: 'not running', tone: 'idle' };
  if (s.outcome.exitCode === 0) return j.counts.cancelled > 0 ? { text: 'cancelled', tone: 'idle' } : { text: 'finished', tone: 'ok' };
  if (s.outcome.exitCode === 130) return { text: 'stopped', tone: 'idle' };
  return { text: s.outcome.exitCode === 2 ? 'finished with failures' : 'stopped: needs you', tone: 'bad' };
}

/**
 * Every job the host knows, with its state and progress: Open (the map, progress and details follow),
 * Start (a job saved without starting, or one that stopped), Pause / Resume, and Cancel after a
 * confirmation in place. Commands go through the contract's `command()`.
 */
export function JobsList({ store, onCommand }: Props) {
  const [confirming, setConfirming] = useState<string | null>(null);
  const names = store.jobNames();
  return (
    <section className="panel jobs-list" data-testid="jobs-list" aria-labelledby="jobs-list-title">
      <h2 id="jobs-list-title">
        Jobs <span className="muted">{names.length}</span>
      </h2>
      {names.length === 0 ? (
        <p className="muted">No job yet.</p>
      ) : (
        <ul>
          {names.map((name) => {
            const j = store.job(name)!;
            const total = j.tiles.size - j.counts.split;
            const done = j.counts.done;
            const state = jobState(j);
            const current = store.selectedJob === name;
            const running = j.summary.running;
            const paused = running && j.summary.progress.waiting === 'paused';
            const finished = j.summary.outcome?.exitCode === 0;
            return (
              <li key={name} className={current ? 'current' : ''} data-testid={`jobs-row-${name}`} data-state={state.text}>
                <div className="job-row">
                  <span className="job-name">{name}</span>
                  <span className={`status-chip ${state.tone}`} data-testid={`jobs-state-${name}`}>
                    {state.text}
                  </span>
                  <span className="job-figures" data-testid={`jobs-done-${name}`}>
                    {done}/{total}
                    {j.counts.failed ? ` · ${j.counts.failed} failed` : ''}
                  </span>
                </div>
                <div
                  className="bar"
                  role="progressbar"
                  aria-label={`${name} progress`}
                  aria-valuemin={0}
                  aria-valuemax={total}
                  aria-valuenow={done}
                  aria-valuetext={`${done} of ${total} tiles done${j.counts.failed ? `, ${j.counts.failed} failed` : ''}`}
                >
                  <span className="bar-fill" style={{ width: `${total ? ((done / total) * 100).toFixed(2) : 0}%` }} />
                  {j.counts.failed > 0 && <span className="bar-failed" style={{ width: `${((j.counts.failed / Math.max(1, total)) * 100).toFixed(2)}%` }} />}
                </div>
                <div className="job-actions">
                  <button type="button" data-testid={`jobs-open-${name}`} aria-pressed={current} aria-label={`Open ${name}`} onClick={() => store.selectJob(name)}>
                    {current ? 'Open (shown)' : 'Open'}
                  </button>
                  {!running && !finished && (
                    <button type="button" data-testid={`jobs-start-${name}`} aria-label={`Start ${name}`} onClick={() => onCommand({ type: 'start', job: name })}>
                      Start
                    </button>
                  )}
                  {running &&
                    (paused ? (
                      <button type="button" data-testid={`jobs-resume-${name}`} aria-label={`Resume ${name}`} onClick={() => onCommand({ type: 'resume', job: name })}>
                        Resume
                      </button>
                    ) : (
                      <button type="button" data-testid={`jobs-pause-${name}`} aria-label={`Pause ${name}`} onClick={() => onCommand({ type: 'pause', job: name })}>
                        Pause
                      </button>
                    ))}
                  {running && confirming !== name && (
                    <button type="button" className="danger" data-testid={`jobs-cancel-${name}`} aria-label={`Cancel ${name}…`} onClick={() => setConfirming(name)}>
                      Cancel…
                    </button>
                  )}
                </div>
                {confirming === name && (
                  <div className="confirm" role="alertdialog" aria-label={`Cancel ${name}?`} data-testid={`jobs-confirm-${name}`}>
                    <span>Cancel {name}? Its tasks in Earth Engine are cancelled; tiles already done stay.</span>
                    <button
                      type="button"
                      className="danger"
                      data-testid={`jobs-cancel-confirm-${name}`}
                      ref={(b) => b?.focus()}
                      onClick={() => {
                        setConfirming(null);
                        onCommand({ type: 'cancel', job: name });
                      }}
                    >
                      Cancel the job
                    </button>
                    <button type="button" data-testid={`jobs-cancel-keep-${name}`} onClick={() => setConfirming(null)}>
                      Keep it
                    </button>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
