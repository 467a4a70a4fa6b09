import type { LogEntry } from '../../shared/dashboard';
import { formatTime } from '../format';

/** The job's recent messages, newest first. */
export function LogPanel({ log }: { log: LogEntry[] }) {
  const recent = log.slice(-60).reverse();
  return (
    <section className="panel log" aria-label="Recent messages">
      <h2>Log</h2>
      {recent.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ol>
          {recent.map((e, k) => (
            <li key={`${e.at}-${k}`} className={`log-${e.level}`}>
              <time dateTime={e.at}>{formatTime(e.at)}</time> {e.message}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
