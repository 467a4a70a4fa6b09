import { useEffect, useState } from 'react';
import type { Command, TileState } from '../../shared/contract';
import type { TileDetail } from '../../shared/dashboard';
import type { TesseraClient } from '../api';
import { formatBytes, formatTime } from '../format';
import { STATE_STYLES } from '../states';

interface Props {
  client: TesseraClient;
  job: string;
  id: string | null;
  /** Changes whenever the tile's state or attempt does: the details are fetched again. */
  stamp: string;
  onCommand: (cmd: Command) => Promise<void>;
  onClose: () => void;
  /** A finished unit's quicklook (docs/previews.md); without it none is shown. */
  preview?: (unit: string) => Promise<string | null>;
  /** A job with periods: the tile's units, one per period, to go from one to another. */
  units?: { id: string; period: string; state: TileState }[];
  onPickUnit?: (id: string) => void;
}

const RETRYABLE = new Set(['failed', 'cancelled', 'skipped']);
const SKIPPABLE = new Set(['pending', 'retrying', 'failed']);

/** The selected tile (docs/dashboard.md#job-progress-tile-details-tile-search `tile-details`): history, EE operation and message, files, attempts, retry / skip. */
export function TileDetails({ client, job, id, stamp, onCommand, onClose, preview, units, onPickUnit }: Props) {
  const [detail, setDetail] = useState<TileDetail | null>(null);
  const [image, setImage] = useState<{ unit: string; url: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);

  useEffect(() => {
    setSent(null);
  }, [job, id]);

  useEffect(() => {
    if (!id) {
      setDetail(null);
      return;
    }
    let live = true;
    client.tile(job, id).then(
      (d) => {
        if (!live) return;
        setDetail(d);
        setError(null);
      },
      (e: unknown) => live && setError((e as Error).message),
    );
    return () => {
      live = false;
    };
  }, [client, job, id, stamp]);

  // The quicklook of a finished unit (asked again when its state changes: it is made after `done`).
  useEffect(() => {
    if (!id || !preview) return;
    let live = true;
    preview(id).then(
      (url) => live && setImage(url ? { unit: id, url } : null),
      () => live && setImage(null),
    );
    return () => {
      live = false;
    };
  }, [preview, job, id, stamp]);

  if (!id) {
    return (
      <section className="panel details empty" aria-label="Tile details">
        <p className="muted">Click a tile on the map, or type its id above, to see its details.</p>
      </section>
    );
  }
  const d = detail && detail.id === id ? detail : null;
  const send = async (type: 'retry' | 'skip') => {
    try {
      await onCommand({ type, job, tiles: [id] });
      setSent(`${type} sent`);
    } catch (e) {
      setSent(`${type} refused: ${(e as Error).message}`);
    }
  };
  return (
    <section className={`panel details${d?.state === 'failed' ? ' failed' : ''}`} data-testid="tile-details" aria-label={`Tile ${id}`}>
      <header>
        <h2 className="tile-id" data-testid="tile-details-id">
          {id}
        </h2>
        {d && (
          <span className="state-chip" style={{ background: STATE_STYLES[d.state].fill, borderColor: STATE_STYLES[d.state].stroke }}>
            {d.state}
          </span>
        )}
        <button type="button" className="close" onClick={onClose} aria-label="Close the details">
          ×
        </button>
      </header>
      {error && <p className="alarm-text">{error}</p>}
      {!d && !error && <p className="muted">Loading…</p>}
      {d && (
        <>
          <div className="actions">
            <button type="button" data-testid="tile-retry" disabled={!RETRYABLE.has(d.state)} onClick={() => void send('retry')}>
              Retry
            </button>
            <button type="button" data-testid="tile-skip" disabled={!SKIPPABLE.has(d.state)} onClick={() => void send('skip')}>
              Skip
            </button>
            {sent && (
              <span className="sent" role="status">
                {sent}
              </span>
            )}
          </div>
          {units && units.length > 1 && (
            <div className="unit-periods" role="group" aria-label="This tile in each period">
              {units.map((u) => (
                <button
                  key={u.id}
                  type="button"
                  aria-pressed={u.id === id}
                  onClick={() => onPickUnit?.(u.id)}
                  title={`${u.period}: ${u.state}`}
                  style={{ borderColor: STATE_STYLES[u.state].stroke }}
                >
                  <span className="swatch" style={{ background: STATE_STYLES[u.state].fill, borderColor: STATE_STYLES[u.state].stroke }} />
                  {u.period}
                </button>
              ))}
            </div>
          )}
          {image && image.unit === id && d.state === 'done' && <img className="tile-preview" data-testid="tile-preview" src={image.url} alt={`Quicklook of ${id}`} />}
          <dl className="facts">
            <dt>Attempts</dt>
            <dd data-testid="tile-attempts">
              {d.attempt}
              {d.retriesUsed ? ` (${d.retriesUsed} retr${d.retriesUsed === 1 ? 'y' : 'ies'} used)` : ''}
              {d.notBefore && d.state === 'retrying' ? ` · next not before ${formatTime(d.notBefore)}` : ''}
            </dd>
            {(d.via ?? (d.operation ? 'export' : undefined)) && (
              <>
                <dt>Came by</dt>
                <dd data-testid="tile-via">{(d.via ?? 'export') === 'direct' ? 'direct (computePixels)' : 'batch export'}</dd>
              </>
            )}
            <dt>EE operation</dt>
            <dd className="mono" data-testid="tile-operation">
              {d.operation ?? '–'}
            </dd>
            {d.description && (
              <>
                <dt>Task</dt>
                <dd className="mono">{d.description}</dd>
              </>
            )}
            {d.error && (
              <>
                <dt>Message</dt>
                <dd className={d.state === 'failed' ? 'alarm-text' : ''} data-testid="tile-message">
                  {d.error}
                </dd>
              </>
            )}
            {d.eecuSeconds !== null && (
              <>
                <dt>EECU</dt>
                <dd>{(d.eecuSeconds / 3600).toFixed(3)} h</dd>
              </>
            )}
            <dt>Export</dt>
            <dd className="mono">
              {d.crs} · {d.dimensions.join(' × ')} px
            </dd>
          </dl>
          <h3>Files</h3>
          {d.files.length === 0 ? (
            <p className="muted">None yet.</p>
          ) : (
            <table className="files" data-testid="tile-files">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Size</th>
                  <th>MD5</th>
                  <th title="verified locally · cleaned up in Drive">✓</th>
                </tr>
              </thead>
              <tbody>
                {d.files.map((f) => (
                  <tr key={f.id}>
                    <td className="mono">{f.name}</td>
                    <td>{formatBytes(f.size)}</td>
                    <td className="mono md5">{f.md5}</td>
                    <td>
                      {f.verified ? 'verified' : '–'}
                      {f.cleaned ? ' · cleaned' : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>History</h3>
          <ol className="history" data-testid="tile-history">
            {d.history.map((h, k) => (
              <li key={k}>
                <span className="swatch" style={{ background: STATE_STYLES[h.state].fill, borderColor: STATE_STYLES[h.state].stroke }} />
                <span className="state-name">{h.state}</span>
                <time dateTime={h.at}>{formatTime(h.at)}</time>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
