import { useId, useMemo, useState } from 'react';
import { AssetFolderSchema, type AssetRow } from '../../shared/assets';
import { formatBytes } from '../format';
import type { ServicesClient } from '../services-client';
import { SidePanel } from './SidePanel';

interface Props {
  services: ServicesClient;
  onClose: () => void;
  /** A folder to start with (the open job's asset folder). */
  initialFolder?: string;
}

/** Rows per page: a folder of thousands of tile assets stays quick to scroll and to select. */
export const ASSETS_PER_PAGE = 100;
const DELETE_BATCH = 1000;

const CONTAINER = new Set(['FOLDER', 'IMAGE_COLLECTION']);

/**
 * Earth Engine assets: list a folder (every page followed by the host, recursive on request) with type,
 * size, features and update time, page through it, and delete selected assets after a confirmation that
 * names how many and whether folders with their contents go too.
 */
export function AssetPanel({ services, onClose, initialFolder }: Props) {
  const id = useId();
  const [folder, setFolder] = useState(initialFolder ?? '');
  const [recursive, setRecursive] = useState(false);
  const [listing, setListing] = useState<{ folder: string; assets: AssetRow[]; truncated: boolean; recursive: boolean } | null>(null);
  const [page, setPage] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [said, setSaid] = useState('');

  /** `done`: what the user just did (a deletion), kept in front of the refreshed listing's line so it is not lost. */
  const list = async (name = folder, deep = recursive, keepPage = false, done = '') => {
    const parsed = AssetFolderSchema.safeParse(name);
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? 'not an asset name');
      document.getElementById(`${id}-folder`)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await services.listAssets({ folder: parsed.data, recursive: deep });
      setListing({ ...r, recursive: deep });
      setSelected(new Set());
      setConfirming(false);
      const pages = Math.max(1, Math.ceil(r.assets.length / ASSETS_PER_PAGE));
      setPage((p) => (keepPage ? Math.min(p, pages - 1) : 0));
      setSaid(`${done}${r.assets.length.toLocaleString('en-US')} assets in ${r.folder}${r.truncated ? ' (listing cut short)' : ''}`);
    } catch (e) {
      setError((e as Error).message);
    }
    setBusy(false);
  };

  const rows = listing?.assets ?? [];
  const pages = Math.max(1, Math.ceil(rows.length / ASSETS_PER_PAGE));
  const shown = rows.slice(page * ASSETS_PER_PAGE, (page + 1) * ASSETS_PER_PAGE);
  const chosen = useMemo(() => rows.filter((r) => selected.has(r.name)), [rows, selected]);
  const containers = chosen.filter((r) => CONTAINER.has(r.type));
  const allShown = shown.length > 0 && shown.every((r) => selected.has(r.name));

  const toggle = (name: string, on: boolean) =>
    setSelected((s) => {
      const n = new Set(s);
      if (on) n.add(name);
      else n.delete(name);
      return n;
    });

  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      // Children of a chosen folder go with it (recursive), so they are not named twice.
      const names = chosen.map((r) => r.name).filter((n) => !containers.some((c) => n.startsWith(`${c.name}/`)));
      // In requests of at most DELETE_BATCH names (the API's limit is 5,000).
      const r = { deleted: [] as string[], alreadyGone: [] as string[] };
      for (let k = 0; k < names.length; k += DELETE_BATCH) {
        const part = await services.deleteAssets({ names: names.slice(k, k + DELETE_BATCH), recursive: containers.length > 0 });
        r.deleted.push(...part.deleted);
        r.alreadyGone.push(...part.alreadyGone);
      }
      const done = `Deleted ${r.deleted.length} asset${r.deleted.length === 1 ? '' : 's'}${r.alreadyGone.length ? ` (${r.alreadyGone.length} already gone)` : ''}.`;
      setSaid(done);
      setConfirming(false);
      if (listing) await list(listing.folder, listing.recursive, true, `${done} `);
    } catch (e) {
      setError((e as Error).message);
      setConfirming(false);
    }
    setBusy(false);
  };

  return (
    <SidePanel title="Earth Engine assets" testid="assets" onClose={onClose}>
      <form
        className="asset-query"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void list();
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-folder`}>Folder</label>
          <input
            id={`${id}-folder`}
            data-testid="asset-folder"
            value={folder}
            placeholder="projects/my-project/assets/tiles"
            aria-invalid={error && !listing ? true : undefined}
            onChange={(e) => setFolder(e.target.value)}
          />
        </div>
        <label className="check">
          <input type="checkbox" data-testid="asset-recursive" checked={recursive} onChange={(e) => setRecursive(e.target.checked)} /> Include sub-folders and collections
        </label>
        <div className="settings-actions">
          <button type="submit" className="primary" data-testid="asset-list" disabled={busy}>
            {busy && !confirming ? 'Listing…' : 'List'}
          </button>
        </div>
      </form>
      {error && (
        <p className="field-error" role="alert" data-testid="asset-error">
          {error}
        </p>
      )}
      {listing && (
        <>
          <table className="asset-table" data-testid="asset-table">
            <caption className="muted">
              {rows.length ? `${(page * ASSETS_PER_PAGE + 1).toLocaleString('en-US')}–${(page * ASSETS_PER_PAGE + shown.length).toLocaleString('en-US')} of ${rows.length.toLocaleString('en-US')}` : 'This folder is empty.'}
            </caption>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select every asset on this page"
                    data-testid="asset-select-page"
                    checked={allShown}
                    disabled={!shown.length}
                    onChange={(e) => setSelected((s) => {
                      const n = new Set(s);
                      for (const r of shown) if (e.target.checked) n.add(r.name); else n.delete(r.name);
                      return n;
                    })}
                  />
                </th>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
                <th scope="col">Features</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => {
                const short = r.name.slice(listing.folder.length + 1);
                return (
                  <tr key={r.name} data-testid="asset-row" data-name={r.name}>
                    <td>
                      <input type="checkbox" aria-label={`Select ${short}`} checked={selected.has(r.name)} onChange={(e) => toggle(r.name, e.target.checked)} />
                    </td>
                    <td className="asset-name" style={{ paddingLeft: `${0.3 + r.depth}em` }} title={r.name}>
                      {short}
                    </td>
                    <td>{r.type.replace('_', ' ').toLowerCase()}</td>
                    <td className="num">{r.sizeBytes !== undefined ? formatBytes(r.sizeBytes) : ''}</td>
                    <td className="num">{r.featureCount !== undefined ? r.featureCount.toLocaleString('en-US') : ''}</td>
                    <td>{r.updateTime ? r.updateTime.slice(0, 16).replace('T', ' ') : ''}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <nav className="pager" aria-label="Asset pages">
            <button type="button" data-testid="asset-prev" disabled={page === 0} onClick={() => setPage((p) => p - 1)}>
              Previous
            </button>
            <span data-testid="asset-page">
              Page {page + 1} of {pages}
            </span>
            <button type="button" data-testid="asset-next" disabled={page >= pages - 1} onClick={() => setPage((p) => p + 1)}>
              Next
            </button>
          </nav>
          {!confirming ? (
            <div className="settings-actions">
              <button type="button" className="danger" data-testid="asset-delete" disabled={!chosen.length || busy} onClick={() => setConfirming(true)}>
                Delete selected ({chosen.length})
              </button>
            </div>
          ) : (
            <div role="alertdialog" aria-labelledby={`${id}-confirm`} className="confirm" data-testid="asset-confirm">
              <p id={`${id}-confirm`}>
                Delete {chosen.length} asset{chosen.length === 1 ? '' : 's'}
                {containers.length ? `, including ${containers.length} folder${containers.length === 1 ? '' : 's'} or collection${containers.length === 1 ? '' : 's'} with everything in them` : ''}? This cannot be undone.
              </p>
              <div className="settings-actions">
                <button type="button" autoFocus onClick={() => setConfirming(false)}>
                  Cancel
                </button>
                <button type="button" className="danger" data-testid="asset-confirm-delete" disabled={busy} onClick={() => void remove()}>
                  Delete
                </button>
              </div>
            </div>
          )}
        </>
      )}
      <p role="status" aria-live="polite" data-testid="asset-said" className="settings-said">
        {said}
      </p>
    </SidePanel>
  );
}
