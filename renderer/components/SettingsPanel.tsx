import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { basemapOrigin, BasemapUrlSchema, DEFAULT_BASEMAP_URL, ProjectIdSchema, type AuthStatus, type Settings } from '../../shared/settings';
import type { ServicesClient } from '../services-client';
import { SidePanel } from './SidePanel';
import { DoctorChecks } from './DoctorChecks';
import type { DoctorReport } from '../../shared/doctor';

interface Props {
  services: ServicesClient;
  onClose: () => void;
  /** The saved settings (the map takes the basemap from them). */
  onSaved: (s: Settings) => void;
  /** The account changed (signed in or out). */
  onAuth: (a: AuthStatus) => void;
}

const failedText = (reason: string) => (/cancelled/.test(reason) ? 'Sign-in cancelled.' : `Sign-in failed: ${reason}`);

/** How long the page waits for a sign-in finished in another tab, and how often it asks. */
const SIGN_IN_WAIT_MS = 6 * 60_000;
const SIGN_IN_POLL_MS = 1_000;

type Draft = { eeProject: string; basemapUrl: string; notifications: boolean; preventSleep: boolean; startAtLogin: boolean };

/**
 * Settings and account: who is signed in and with which OAuth client, the Earth Engine project for jobs that
 * name none, the basemap, and (in the desktop app) notifications, keep-awake and start at login. Every field
 * is checked with the schema of shared/settings.ts before it is sent, its error shown next to it.
 */
export function SettingsPanel({ services, onClose, onSaved, onAuth }: Props) {
  const id = useId();
  const [saved, setSaved] = useState<Settings | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<Partial<Record<keyof Draft | 'client' | 'load', string>>>({});
  const [auth, setAuth] = useState<AuthStatus | null>(null);
  const [busy, setBusy] = useState<'save' | 'sign-in' | 'sign-out' | 'client' | null>(null);
  const [said, setSaid] = useState('');
  const [client, setClient] = useState({ clientId: '', clientSecret: '', json: '' });
  const waiting = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [doctor, setDoctor] = useState<{ state: 'idle' } | { state: 'running' } | { state: 'done'; report: DoctorReport } | { state: 'failed'; message: string }>({ state: 'idle' });
  const runDoctor = () => {
    setDoctor({ state: 'running' });
    services.doctor().then(
      (report) => setDoctor({ state: 'done', report }),
      (e: unknown) => setDoctor({ state: 'failed', message: (e as Error).message }),
    );
  };

  const takeAuth = useCallback(
    (a: AuthStatus) => {
      setAuth(a);
      onAuth(a);
    },
    [onAuth],
  );

  useEffect(() => {
    let live = true;
    Promise.all([services.settings(), services.auth()]).then(
      ([s, a]) => {
        if (!live) return;
        setSaved(s);
        setDraft({ eeProject: s.eeProject ?? '', basemapUrl: s.basemapUrl, notifications: s.notifications, preventSleep: s.preventSleep, startAtLogin: s.startAtLogin });
        takeAuth(a);
      },
      (e: unknown) => live && setErrors({ load: `settings could not be read: ${(e as Error).message}` }),
    );
    return () => {
      live = false;
      clearTimeout(waiting.current);
    };
  }, [services, takeAuth]);

  /** After handing out the consent link: ask until the sign-in is stored, failed, or the wait is over. */
  const waitForSignIn = useCallback(
    (until: number) => {
      clearTimeout(waiting.current);
      waiting.current = setTimeout(() => {
        services.auth().then(
          (a) => {
            takeAuth(a);
            if (a.consentUrl && Date.now() < until) waitForSignIn(until);
            else {
              setBusy(null);
              setSaid(a.signedIn ? `Signed in${a.email ? ` as ${a.email}` : ''}.` : a.error ? failedText(a.error) : 'Sign-in did not finish.');
            }
          },
          () => (Date.now() < until ? waitForSignIn(until) : setBusy(null)),
        );
      }, SIGN_IN_POLL_MS);
    },
    [services, takeAuth],
  );

  const signIn = async () => {
    setBusy('sign-in');
    setSaid('');
    try {
      const a = await services.signIn();
      takeAuth(a);
      if (a.consentUrl) {
        // The page is already in the user's browser: Google's consent opens in a new tab (or via the link).
        window.open(a.consentUrl, '_blank', 'noopener,noreferrer');
        setSaid('Finish signing in on the Google page that opened (or use the link below).');
        waitForSignIn(Date.now() + SIGN_IN_WAIT_MS);
        return;
      }
      setSaid(a.signedIn ? `Signed in${a.email ? ` as ${a.email}` : ''}.` : `Sign-in failed${a.error ? `: ${a.error}` : ''}.`);
    } catch (e) {
      setSaid(failedText((e as Error).message));
    }
    setBusy(null);
  };

  const signOut = async () => {
    setBusy('sign-out');
    try {
      takeAuth(await services.signOut());
      setSaid('Signed out: the sign-in was revoked and forgotten.');
    } catch (e) {
      setSaid(`Sign-out failed: ${(e as Error).message}`);
    }
    setBusy(null);
  };

  const saveClient = async () => {
    const json = client.json.trim();
    const input = json ? { json } : { clientId: client.clientId.trim(), clientSecret: client.clientSecret.trim() };
    if (!json && (!input.clientId || !input.clientSecret)) {
      setErrors((e) => ({ ...e, client: 'paste the client id and secret, or the whole client_secret.json' }));
      return;
    }
    setBusy('client');
    try {
      takeAuth(await services.setClient(input));
      setClient({ clientId: '', clientSecret: '', json: '' });
      setErrors((e) => ({ ...e, client: undefined }));
      setSaid('OAuth client saved.');
    } catch (e) {
      setErrors((x) => ({ ...x, client: (e as Error).message }));
    }
    setBusy(null);
  };

  const save = async () => {
    if (!draft || !saved) return;
    const found: typeof errors = {};
    const project = draft.eeProject.trim();
    const p = project ? ProjectIdSchema.safeParse(project) : null;
    if (p && !p.success) found.eeProject = p.error.issues[0]?.message ?? 'not a project id';
    const b = BasemapUrlSchema.safeParse(draft.basemapUrl);
    if (!b.success) found.basemapUrl = b.error.issues[0]?.message ?? 'not a tile URL template';
    setErrors(found);
    if (Object.keys(found).length) {
      document.getElementById(`${id}-${Object.keys(found)[0]}`)?.focus();
      return;
    }
    const patch: Partial<Settings> = { eeProject: project || null, basemapUrl: b.data!, notifications: draft.notifications };
    if (services.desktop) Object.assign(patch, { preventSleep: draft.preventSleep, startAtLogin: draft.startAtLogin });
    setBusy('save');
    try {
      const s = await services.saveSettings(patch);
      const newOrigin = basemapOrigin(s.basemapUrl) !== basemapOrigin(saved.basemapUrl);
      setSaved(s);
      onSaved(s);
      setSaid(newOrigin ? 'Saved. Reload the page to let the map load tiles from the new basemap host.' : 'Saved.');
    } catch (e) {
      setSaid(`Not saved: ${(e as Error).message}`);
    }
    setBusy(null);
  };

  const field = (key: 'eeProject' | 'basemapUrl', label: string, hint: string, placeholder: string) => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <input
        id={`${id}-${key}`}
        data-testid={`settings-${key}`}
        value={draft?.[key] ?? ''}
        placeholder={placeholder}
        aria-invalid={errors[key] ? true : undefined}
        aria-describedby={`${id}-${key}-note`}
        onChange={(e) => setDraft((d) => (d ? { ...d, [key]: e.target.value } : d))}
      />
      <span id={`${id}-${key}-note`} className={errors[key] ? 'field-error' : 'field-hint'}>
        {errors[key] ?? hint}
      </span>
    </div>
  );
  const check = (key: 'notifications' | 'preventSleep' | 'startAtLogin', label: string) => (
    <label className="check">
      <input type="checkbox" data-testid={`settings-${key}`} checked={draft?.[key] ?? false} onChange={(e) => setDraft((d) => (d ? { ...d, [key]: e.target.checked } : d))} /> {label}
    </label>
  );

  return (
    <SidePanel title="Settings" testid="settings" onClose={onClose}>
      {errors.load && <p className="field-error">{errors.load}</p>}
      <section aria-labelledby={`${id}-account`} className="settings-section">
        <h3 id={`${id}-account`}>Google account</h3>
        <p data-testid="auth-status">
          {!auth ? 'Reading…' : auth.signedIn ? <>Signed in{auth.email ? <> as <strong>{auth.email}</strong></> : ''}.</> : 'Not signed in.'}
          {auth && <span className="muted"> The sign-in is kept in {auth.storage}.</span>}
        </p>
        {auth?.warning && <p className="field-hint">{auth.warning}</p>}
        <div className="settings-actions">
          {auth?.signedIn ? (
            <button type="button" data-testid="sign-out" disabled={busy !== null} onClick={() => void signOut()}>
              Sign out
            </button>
          ) : (
            <button type="button" data-testid="sign-in" disabled={busy !== null || !auth?.client} onClick={() => void signIn()}>
              {busy === 'sign-in' ? 'Waiting for Google…' : 'Sign in with Google'}
            </button>
          )}
          {busy === 'sign-in' && (
            <button type="button" data-testid="cancel-sign-in" onClick={() => void services.cancelSignIn().then(takeAuth, () => undefined)}>
              Cancel
            </button>
          )}
        </div>
        {auth?.consentUrl && (
          <p>
            <a href={auth.consentUrl} target="_blank" rel="noopener noreferrer" data-testid="consent-link">
              Open Google's sign-in page
            </a>
          </p>
        )}
        <fieldset>
          <legend>OAuth client</legend>
          <p className="muted" data-testid="auth-client">
            {auth?.client ? <>Using client <code>{auth.client}</code>.</> : 'No OAuth client yet: create a "Desktop app" client in the Google Cloud console (README, "Signing in"), then paste it here.'}
          </p>
          <div className="field">
            <label htmlFor={`${id}-client-id`}>Client id</label>
            <input id={`${id}-client-id`} data-testid="client-id" autoComplete="off" value={client.clientId} onChange={(e) => setClient((c) => ({ ...c, clientId: e.target.value }))} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-client-secret`}>Client secret</label>
            <input id={`${id}-client-secret`} data-testid="client-secret" type="password" autoComplete="off" value={client.clientSecret} onChange={(e) => setClient((c) => ({ ...c, clientSecret: e.target.value }))} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-client-json`}>or client_secret.json</label>
            <textarea id={`${id}-client-json`} data-testid="client-json" rows={3} spellCheck={false} value={client.json} onChange={(e) => setClient((c) => ({ ...c, json: e.target.value }))} />
          </div>
          {errors.client && (
            <p className="field-error" role="alert">
              {errors.client}
            </p>
          )}
          <div className="settings-actions">
            <button type="button" data-testid="save-client" disabled={busy !== null} onClick={() => void saveClient()}>
              Save client
            </button>
          </div>
        </fieldset>
      </section>
      <section aria-labelledby={`${id}-checks`} className="settings-section">
        <h3 id={`${id}-checks`}>Checks</h3>
        <p className="muted">What a job needs, checked before it runs (as tessera doctor does): the sign-in and its access, Earth Engine, Drive and the clock.</p>
        <div className="settings-actions">
          <button type="button" data-testid="settings-doctor-run" disabled={doctor.state === 'running'} onClick={runDoctor}>
            {doctor.state === 'running' ? 'Checking…' : doctor.state === 'idle' ? 'Run the checks' : 'Check again'}
          </button>
        </div>
        <div role="status" aria-live="polite">
          {doctor.state === 'done' && <DoctorChecks report={doctor.report} testid="settings-doctor" />}
          {doctor.state === 'failed' && (
            <p className="field-error" data-testid="settings-doctor-error">
              The checks could not run: {doctor.message}
            </p>
          )}
        </div>
      </section>
      <section aria-labelledby={`${id}-prefs`} className="settings-section">
        <h3 id={`${id}-prefs`}>Preferences</h3>
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          {field('eeProject', 'Earth Engine project', 'for jobs that do not name one ("ee": { "project" } in the job wins)', 'my-ee-project')}
          {field('basemapUrl', 'Basemap URL', 'https template with {z}, {x} and {y}', DEFAULT_BASEMAP_URL)}
          {services.desktop ? (
            <>
              {check('notifications', 'Notifications (job done, needs you, tile failed for good, Drive full)')}
              {check('preventSleep', 'Keep the computer awake while a job runs')}
              {check('startAtLogin', 'Start Tessera when I log in')}
            </>
          ) : (
            <p className="muted">Notifications, keep-awake and start at login are settings of the desktop app.</p>
          )}
          <div className="settings-actions">
            <button type="button" onClick={() => setDraft((d) => (d ? { ...d, basemapUrl: DEFAULT_BASEMAP_URL } : d))}>
              Default basemap
            </button>
            <button type="submit" className="primary" data-testid="save-settings" disabled={!draft || busy !== null}>
              Save
            </button>
          </div>
        </form>
      </section>
      <p role="status" aria-live="polite" data-testid="settings-said" className="settings-said">
        {said}
      </p>
    </SidePanel>
  );
}
