import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Command, TileState } from '../../shared/contract';
import type { TesseraClient } from '../api';
import { TileMap } from '../map/TileMap';
import { syncStore, type DashboardStore } from '../store';
import { Legend } from './Legend';
import { PeriodChart } from './PeriodChart';
import { PeriodSelect } from './PeriodSelect';
import { periodOf, tileOf } from '../periods';
import { LogPanel } from './LogPanel';
import { ProgressHeader } from './ProgressHeader';
import { BucketGauge } from './BucketGauge';
import { QuotaGauge } from './QuotaGauge';
import { TileDetails } from './TileDetails';
import { TileSearch } from './TileSearch';
import { JobsList } from './JobsList';
import { Wizard } from './Wizard';
import { AssetPanel } from './AssetPanel';
import { SettingsPanel } from './SettingsPanel';
import { basemapOrigin, DEFAULT_BASEMAP_URL, type AuthStatus } from '../../shared/settings';

interface Props {
  client: TesseraClient;
  store: DashboardStore;
}

export function App({ client, store }: Props) {
  useSyncExternalStore(store.subscribe, store.version);
  useEffect(() => syncStore(client, store), [client, store]);
  const cursor = useRef(new Map<TileState, number>());
  const [wizard, setWizard] = useState(false);
  const newJobButton = useRef<HTMLButtonElement>(null);
  // Settings, sign-in and assets (hosts that have them): which panel is open, and what the page shows of them.
  const services = client.services;
  const [panel, setPanel] = useState<'settings' | 'assets' | null>(null);
  const [auth, setAuth] = useState<AuthStatus | null>(null);
  /** Bumped by each tile search: the map pans to the tile found. */
  const [reveal, setReveal] = useState(0);
  // Hosts with settings: no basemap until they are read (the CSP allows only the configured origin).
  const [basemapUrl, setBasemapUrl] = useState<string | undefined>(services ? undefined : DEFAULT_BASEMAP_URL);
  const panelOpener = useRef<HTMLElement | null>(null);
  // The page's CSP allows images from the basemap origin it was loaded with: another origin needs a reload.
  const pageBasemapOrigin = useRef<string | null>(null);
  const openPanel = (which: 'settings' | 'assets') => {
    panelOpener.current = document.activeElement as HTMLElement | null;
    setPanel(which);
  };
  const closePanel = useCallback(() => {
    setPanel(null);
    queueMicrotask(() => panelOpener.current?.focus());
    // A sign-in finished in the browser after the panel closed still shows on the account button.
    services?.auth().then(setAuth, () => undefined);
  }, [services]);
  useEffect(() => {
    if (!services) return;
    let live = true;
    services.settings().then(
      (s) => {
        if (!live) return;
        pageBasemapOrigin.current = basemapOrigin(s.basemapUrl);
        setBasemapUrl(s.basemapUrl);
      },
      () => live && setBasemapUrl(DEFAULT_BASEMAP_URL),
    );
    services.auth().then((a) => live && setAuth(a), () => undefined);
    return () => {
      live = false;
    };
  }, [services]);
  const closeWizard = useCallback(() => {
    setWizard(false);
    queueMicrotask(() => newJobButton.current?.focus());
  }, []);

  const jobName = store.selectedJob;
  const job = store.job(jobName);
  const selected = store.selectedTile;
  const selectedTile = selected ? job?.tiles.get(selected) : undefined;
  // A job with periods: what the legend, progress and details count is the period chosen (all: every unit).
  const period = store.selectedPeriod;
  const shownCounts = store.shownCounts(jobName);
  const fetchPreview = useCallback((unit: string) => (jobName ? client.preview(jobName, unit) : Promise.resolve(null)), [client, jobName]);
  const selectedUnits =
    job && selected && job.periods.length
      ? job.periods.flatMap((p) => {
          const u = job.tiles.get(`${p}@${tileOf(selected)}`);
          return u ? [{ id: u.id, period: p, state: u.state }] : [];
        })
      : undefined;
  const choosePeriod = (p: string | null) => {
    store.selectPeriod(p);
    // The details follow: the same tile in the period chosen.
    if (job && selected && p !== null && periodOf(selected) !== undefined) {
      const unit = `${p}@${tileOf(selected)}`;
      store.selectTile(job.tiles.has(unit) ? unit : null);
    }
  };

  const command = useCallback(
    async (cmd: Command) => {
      await client.command(cmd);
    },
    [client],
  );
  const fire = useCallback(
    (cmd: Command) => {
      client.command(cmd).catch((e: unknown) => store.setError(`${cmd.type} refused: ${(e as Error).message}`));
    },
    [client, store],
  );
  // Escape closes the tile's details wherever the focus is (inside them it goes back to the tile search).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented || !store.selectedTile || document.querySelector('[role="dialog"][aria-modal="true"]')) return;
      const inside = document.activeElement?.closest('[data-testid="tile-details"]');
      store.selectTile(null);
      if (inside) document.querySelector<HTMLInputElement>('[data-testid="tile-search"]')?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [store]);

  const pickState = (state: TileState) => {
    if (!job) return;
    // By id and state only: a grid's units are not made into objects for this (docs/dashboard.md).
    const ids: string[] = [];
    for (const id of job.tiles.keys()) if ((period === null || periodOf(id) === period) && job.tiles.stateOf(id) === state) ids.push(id);
    if (!ids.length) return;
    const k = ((cursor.current.get(state) ?? -1) + 1) % ids.length;
    cursor.current.set(state, k);
    store.selectTile(ids[k]!);
  };

  if (store.connection === 'unauthorized') {
    return (
      <div className="fullpage">
        <h1>Tessera</h1>
        <p>This page needs its token. Open the address that <code>tessera serve</code> printed, including the part after <code>#token=</code>.</p>
      </div>
    );
  }

  return (
    <div className="app">
      <header className="topbar">
        <h1>Tessera</h1>
        <nav className="jobs" aria-label="Jobs">
          {store.jobNames().map((name) => {
            const j = store.job(name)!;
            const total = j.tiles.size - j.counts.split;
            const state = j.summary.outcome ? (j.summary.outcome.exitCode === 0 ? 'finished' : 'stopped') : j.summary.running ? (j.summary.progress.waiting ? `waiting: ${j.summary.progress.waiting}` : 'running') : 'idle';
            return (
              <button
                key={name}
                type="button"
                data-testid={`job-tab-${name}`}
                className={name === jobName ? 'current' : ''}
                aria-current={name === jobName ? 'page' : undefined}
                aria-label={`${name}: ${state}, ${j.counts.done} of ${total} tiles done${j.counts.failed ? `, ${j.counts.failed} failed` : ''}`}
                onClick={() => store.selectJob(name)}
              >
                {name} <span className="job-tab-figures">{j.counts.done}/{total}{j.counts.failed ? ` · ${j.counts.failed} failed` : ''}</span>
              </button>
            );
          })}
        </nav>
        {services && (
          <>
            <button type="button" className={`account${auth && !auth.signedIn ? ' signed-out' : ''}`} data-testid="account" onClick={() => openPanel('settings')}>
              {!auth ? 'Account' : auth.signedIn ? (auth.email ?? 'Signed in') : 'Sign in'}
            </button>
            <button type="button" data-testid="open-assets" onClick={() => openPanel('assets')}>
              Assets
            </button>
            <button type="button" data-testid="open-settings" onClick={() => openPanel('settings')}>
              Settings
            </button>
          </>
        )}
        {client.hasWizard && (
          <button type="button" ref={newJobButton} className="new-job" data-testid="new-job" onClick={() => setWizard(true)}>
            New job
          </button>
        )}
        <span className={`connection ${store.connection}`} data-testid="connection" title="connection to the engine">
          {store.connection === 'open' ? 'live' : store.connection}
        </span>
      </header>
      {store.error && (
        <div className="banner" role="alert">
          {store.error}
          <button type="button" onClick={() => store.setError(null)} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
      {job ? (
        <ProgressHeader summary={period === null ? job.summary : { ...job.summary, progress: { ...job.summary.progress, planned: undefined, split: undefined } }} counts={shownCounts} onCommand={fire} />
      ) : (
        <section className="progress empty">{store.loaded ? <p>No job yet. {client.hasWizard ? <>Make one with <strong>New job</strong>, or start</> : 'Start'} <code>tessera serve job.json</code> to run one here.</p> : <p>Loading…</p>}</section>
      )}
      <main className="body">
        <TileMap store={store} job={jobName} selected={selected} onSelect={(id) => store.selectTile(id)} basemapUrl={basemapUrl} reveal={reveal} period={period} fetchPreview={client.services ? fetchPreview : undefined} />
        <aside className="side">
          {store.jobNames().length > 0 && <JobsList store={store} onCommand={fire} />}
          {job && (
            <>
              <PeriodSelect job={job} period={period} onChange={choosePeriod} />
              <Legend counts={shownCounts} onPick={pickState} />
              {job.summary.bucket ? <BucketGauge bucket={job.summary.bucket} objects={job.summary.drive} /> : <QuotaGauge quota={job.summary.quota} drive={job.summary.drive} />}
              <TileSearch
                ids={() => job.tiles.keys()}
                has={(id) => job.tiles.has(id)}
                onSelect={(id) => {
                  store.selectTile(id);
                  setReveal((n) => n + 1);
                }}
              />
              <TileDetails
                client={client}
                job={job.name}
                id={selected}
                stamp={selectedTile ? `${selectedTile.state}:${selectedTile.attempt}` : ''}
                onCommand={command}
                onClose={() => store.selectTile(null)}
                preview={client.services ? fetchPreview : undefined}
                units={selectedUnits}
                onPickUnit={(id) => store.selectTile(id)}
              />
              {job.periods.length > 0 && <PeriodChart job={job} version={store.version()} />}
              <LogPanel log={job.log} />
            </>
          )}
        </aside>
      </main>
      {services && panel === 'settings' && <SettingsPanel services={services} onClose={closePanel} onSaved={(s) => basemapOrigin(s.basemapUrl) === pageBasemapOrigin.current && setBasemapUrl(s.basemapUrl)} onAuth={setAuth} />}
      {services && panel === 'assets' && <AssetPanel services={services} onClose={closePanel} initialFolder={job?.summary.assetFolder ?? undefined} />}
      {wizard && (
        <Wizard
          client={client}
          onClose={closeWizard}
          onCreated={(name) => {
            closeWizard();
            // The host announces the new job on the stream ("jobs"); select it once the snapshot has it.
            const off = store.subscribe(() => {
              if (store.job(name)) {
                off();
                store.selectJob(name);
              }
            });
          }}
        />
      )}
    </div>
  );
}
