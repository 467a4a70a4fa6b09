import { useId, useState } from 'react';
import type { LogEntry } from '../../shared/dashboard';
import { formatTime } from '../format';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** The line as the job's log file has it: time, level, message. */
export function logLine(e: LogEntry): string {
  return `${e.at} ${e.level.toUpperCase()} ${e.message}`;
}

/**
 * The job's recent messages, newest first (the same lines as `.tessera/<name>/log`), filterable by lowest
 * level and by tile id (or any text), copyable as they are shown.
 */
export function LogPanel({ log }: { log: LogEntry[] }) {
  const [level, setLevel] = useState<Level>('debug');
  const [text, setText] = useState('');
  const [copied, setCopied] = useState('');
  const ids = useId();
  const min = LEVELS.indexOf(level);
  const needle = text.trim().toLowerCase();
  const shown = log.filter((e) => LEVELS.indexOf(e.level) >= min && (!needle || e.message.toLowerCase().includes(needle)));
  const recent = shown.slice(-60).reverse();
  const copy = async () => {
    const body = recent.map(logLine).join('\n');
    try {
      await navigator.clipboard.writeText(body);
      setCopied(`${recent.length} line${recent.length === 1 ? '' : 's'} copied`);
    } catch {
      setCopied('copying is not allowed here: select the lines instead');
    }
  };
  return (
    <section className="panel log" aria-label="Log">
      <h2>Log</h2>
      <div className="log-filters">
        <label htmlFor={`${ids}-level`}>Level</label>
        <select id={`${ids}-level`} data-testid="log-level" value={level} onChange={(e) => setLevel(e.target.value as Level)}>
          <option value="debug">all</option>
          <option value="info">info and above</option>
          <option value="warn">warnings and errors</option>
          <option value="error">errors only</option>
        </select>
        <label htmlFor={`${ids}-text`}>Tile or text</label>
        <input id={`${ids}-text`} data-testid="log-filter" type="search" value={text} placeholder="x12_ym3" onChange={(e) => setText(e.target.value)} />
        <button type="button" data-testid="log-copy" onClick={() => void copy()} disabled={recent.length === 0}>
          Copy
        </button>
        <span className="muted" role="status">
          {copied}
        </span>
      </div>
      {recent.length === 0 ? (
        <p className="muted">{log.length ? 'No line matches.' : 'Nothing yet.'}</p>
      ) : (
        <ol role="log" aria-label="Messages, newest first" data-testid="log-lines" tabIndex={0}>
          {recent.map((e, k) => (
            <li key={`${e.at}-${k}`} className={`log-${e.level}`}>
              <time dateTime={e.at}>{formatTime(e.at)}</time> <span className="level">{e.level}</span> {e.message}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
