/**
 * The desktop app's composition root, and with main/electron/preload.ts the only code that imports
 * `electron`. A thin shell over the engine host (main/core/engine/host.ts) and the contract (shared/):
 * the renderer is served from the `tessera://app` protocol (never file://), reaches the engine through the
 * IPC channels of shared/ipc.ts, and the app keeps running in the tray when the window is closed.
 *
 * Environment (tests and power users): TESSERA_USER_DATA (a fresh profile), TESSERA_EMULATOR (sign in to an
 * emulator by itself, as `tessera run --emulator`), TESSERA_CLIENT_ID / TESSERA_CLIENT_SECRET (the OAuth
 * client for Google sign-in; else `<userData>/client_secret.json`), TESSERA_E2E=1 (no quit confirmation; dev builds only, a packaged app ignores it).
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, Notification, powerSaveBlocker, protocol, safeStorage, session, shell, Tray } from 'electron';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Store from 'electron-store';
import { JobHost } from '../core/engine/host';
import { UserError } from '../core/errors';
import { Account, accountService } from '../core/auth/account';
import { assetService } from '../core/google/asset-browser';
import { doctorService } from '../core/doctor/service';
import { EMULATOR_CLIENT, emulatorSession, googleEndpoints, sessionFromCredentials } from '../core/google/session';
import { registerHandlers, senderFromOrigin, type Settings } from '../../shared/ipc';
import type { StreamMessage } from '../../shared/dashboard';
import { desktopHandlers } from './ipc-host';
import { TRAY_ICON_PNG_BASE64 } from './icon';
import { NoteGate, noteForMessage, noteForRunEnd, trayMenu, trayTooltip, type JobLine, type Note } from './notify';
import { SafeStorageVault } from './safe-storage-vault';
import { APP_HOST, APP_ORIGIN, APP_SCHEME, denyPermissions, devToolsAllowed, e2eMode, externalUrl, guardWebContents, rendererFileFor, responseHeaders } from './security';
import { DEFAULT_SETTINGS, SettingsService, settingsJsonSchema, type KeyValueStore } from '../core/settings/settings';
import { mainWindowOptions } from './window';
import { rendererContentType } from '../server/renderer-files';

if (process.env.TESSERA_USER_DATA) app.setPath('userData', resolve(process.env.TESSERA_USER_DATA));

// Must happen before `ready`: the app's scheme behaves like https (secure context, fetch, CSP 'self').
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

const OUT = join(__dirname, '..'); // out/electron/main.cjs → out/
const RENDERER_DIR = join(OUT, 'renderer');
const PRELOAD = join(__dirname, 'preload.cjs');
// Tests only: a packaged build ignores TESSERA_E2E (security.ts, e2eMode).
const E2E = e2eMode({ packaged: app.isPackaged, env: process.env });

let mainWindow: BrowserWindow | undefined;
let tray: Tray | undefined;
let quitting = false;

/** Job files named on the command line (`tessera-desktop job.json …`, or a second launch). */
function jobArgs(argv: string[]): string[] {
  return argv.slice(app.isPackaged ? 1 : 2).filter((a) => /\.json$/i.test(a) && !a.startsWith('-'));
}

if (!app.requestSingleInstanceLock()) {
  // A second launch: the first instance focuses its window (and opens the job files given).
  app.quit();
} else {
  void main();
}

async function main(): Promise<void> {
  await app.whenReady();

  // ---- security: every webContents, every permission, the app protocol -------------------------------
  const openExternal = async (url: string): Promise<boolean> => {
    const allowed = externalUrl(url);
    if (!allowed) return false;
    await shell.openExternal(allowed);
    return true;
  };
  app.on('web-contents-created', (_e, wc) => guardWebContents(wc, (url) => void openExternal(url)));
  denyPermissions(session.defaultSession);

  // ---- settings (electron-store: preferences only, never job state) -------------------------------
  const store = new Store<Record<string, unknown>>({
    name: 'settings',
    schema: settingsJsonSchema() as never,
    defaults: { ...DEFAULT_SETTINGS },
    rootSchema: { additionalProperties: false },
    clearInvalidConfig: true,
  });
  const settings = new SettingsService(store as unknown as KeyValueStore);
  const applyLoginItem = (s: Settings) => {
    if (process.platform !== 'linux') app.setLoginItemSettings({ openAtLogin: s.startAtLogin, args: [] });
  };
  applyLoginItem(settings.get());

  session.defaultSession.protocol.handle(APP_SCHEME, async (request) => {
    const name = rendererFileFor(request.url);
    if (!name) return new Response('not found', { status: 404 });
    try {
      const body = await readFile(join(RENDERER_DIR, name));
      return new Response(body, { status: 200, headers: { 'Content-Type': rendererContentType(name) ?? 'application/octet-stream', ...responseHeaders(settings.get().basemapUrl) } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });

  // ---- the vault and sign-in ----------------------------------------------------------------------
  /** Set while a sign-in the user started with "store without a keyring" already agreed runs. */
  let acceptWeak = false;
  const vault = new SafeStorageVault(join(app.getPath('userData'), 'credentials'), safeStorage, {
    confirmWeakStorage: async (message) => {
      if (acceptWeak) return true;
      const r = await dialog.showMessageBox({ type: 'warning', title: 'Store your sign-in without a keyring?', message: 'No secret service on this computer', detail: message, buttons: ['Store anyway', 'Cancel'], defaultId: 1, cancelId: 1 });
      return r.response === 0;
    },
    warn: (m) => console.warn(`tessera: ${m}`),
  });
  const emulatorOrigin = process.env.TESSERA_EMULATOR ? new URL(process.env.TESSERA_EMULATOR).origin : undefined;
  const account = new Account({
    vault,
    endpoints: () => googleEndpoints(emulatorOrigin),
    clientFile: join(app.getPath('userData'), 'client_secret.json'),
    fallbackClient: () => {
      if (process.env.TESSERA_CLIENT_ID && process.env.TESSERA_CLIENT_SECRET) return { clientId: process.env.TESSERA_CLIENT_ID, clientSecret: process.env.TESSERA_CLIENT_SECRET };
      return emulatorOrigin ? { clientId: EMULATOR_CLIENT.id, clientSecret: EMULATOR_CLIENT.secret } : undefined;
    },
    openBrowser: async (url) => {
      // Google's sign-in page, or the configured emulator's own (loopback only): security.ts, externalUrl.
      const allowed = externalUrl(url, { loopbackOrigins: emulatorOrigin ? [emulatorOrigin] : [] });
      if (!allowed) throw new UserError(`refused to open ${url.slice(0, 200)} in the browser: not a sign-in page Tessera knows`);
      await shell.openExternal(allowed);
    },
    project: () => settings.get().eeProject ?? undefined,
    onSignedIn: async (credentials) => {
      await host.signInChanged(credentials.refresh_token);
      // Jobs that could not open or stopped because nobody was signed in: open and resume them now.
      const hosted = new Set(host.names().map((n) => host.summary(n).file));
      void openJobs(settings.get().jobFiles.filter((f) => !hosted.has(f)));
      for (const n of host.names()) {
        const job = host.summary(n);
        if (!job.running && !job.progress.finished) host.start(n);
      }
    },
    onSignedOut: () => host.signInChanged(undefined),
  });
  // ---- the engine host ----------------------------------------------------------------------------
  const gate = new NoteGate();
  const notify = (note: Note | null) => {
    if (!note || !settings.get().notifications || !Notification.isSupported()) return;
    const n = new Notification({ title: note.title, body: note.body, silent: false });
    n.on('click', () => showWindow());
    n.show();
  };
  const host = new JobHost({
    holder: 'Tessera desktop',
    connect: async (project) => {
      const emulator = process.env.TESSERA_EMULATOR;
      const chosen = project ?? settings.get().eeProject ?? undefined;
      if (emulator) return { session: await emulatorSession(new URL(emulator).origin, chosen), timeScale: 1 };
      const stored = await vault.load();
      if (!stored) throw new UserError('not signed in: sign in to Google from the Tessera window', 3);
      return { session: sessionFromCredentials(stored, googleEndpoints(stored.emulator), chosen), timeScale: 1 };
    },
    onRunEnd: (job, end) => {
      notify(gate.pass(noteForRunEnd(job, end)));
      gate.release(`done:${job}`);
      gate.release(`needs:${job}`);
      refresh();
    },
  });
  host.subscribe((m: StreamMessage) => {
    if (m.kind === 'event' && m.event.type === 'job-progress' && m.event.progress.waiting !== 'quota') gate.release(`quota:${m.event.progress.job}`);
    notify(gate.pass(noteForMessage(m)));
    if (m.kind === 'event' && m.event.type === 'job-progress') refreshSoon();
  });

  const ipc = desktopHandlers(host, {
    settings: {
      get: () => settings.get(),
      set: (patch) => settings.set(patch),
    },
    auth: accountService(account, async (acceptWeakStorage) => {
      acceptWeak = acceptWeakStorage;
      try {
        return await account.signIn();
      } finally {
        acceptWeak = false;
      }
    }),
    assets: assetService(() => host.earthEngine()),
    doctor: doctorService(host, () => googleEndpoints(emulatorOrigin)),
    openExternal,
    // The wizard's "Choose…": the system's open dialog (the save dialog for the job file), attached to the
    // window; the path goes to the host as if typed.
    chooseFile: async (kind) => {
      if (kind === 'job') {
        const options: Electron.SaveDialogOptions = { title: 'Save the job file as', filters: [{ name: 'Tessera job', extensions: ['json'] }], properties: ['createDirectory', 'showOverwriteConfirmation'] };
        const r = mainWindow && !mainWindow.isDestroyed() ? await dialog.showSaveDialog(mainWindow, options) : await dialog.showSaveDialog(options);
        return r.canceled || !r.filePath ? null : /\.json$/i.test(r.filePath) ? r.filePath : `${r.filePath}.json`;
      }
      const filters = kind === 'roi' ? [{ name: 'GeoPackage or GeoJSON', extensions: ['gpkg', 'geojson', 'json'] }] : [{ name: 'Recipe (JavaScript)', extensions: ['js'] }];
      const options: Electron.OpenDialogOptions = { title: kind === 'roi' ? 'Choose the region of interest' : 'Choose a recipe file', properties: ['openFile'], filters };
      const r = mainWindow && !mainWindow.isDestroyed() ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  });
  registerHandlers(ipc.handlers, {
    ipc: ipcMain,
    trustSender: (event) => {
      const sender = event.sender as Electron.WebContents | undefined;
      // The app's own window, its top frame, at the app's origin.
      if (!mainWindow || mainWindow.isDestroyed() || sender !== mainWindow.webContents) return false;
      const frame = event.senderFrame as Electron.WebFrameMain | null | undefined;
      const top = sender.mainFrame;
      const isTop = !!frame && (frame === top || (typeof frame.routingId === 'number' && frame.routingId === top.routingId && frame.processId === top.processId));
      return isTop && senderFromOrigin(APP_ORIGIN)(event);
    },
    onError: (channel, status, message) => {
      if (status === 403 || status >= 500) console.warn(`tessera: ${channel}: ${status} ${message}`);
    },
  });

  // ---- power: keep the machine awake while a job runs (a setting) ---------------------------------
  let blocker: number | undefined;
  const applyPower = () => {
    const want = settings.get().preventSleep && host.busy();
    if (want && blocker === undefined) blocker = powerSaveBlocker.start('prevent-app-suspension');
    if (!want && blocker !== undefined) {
      powerSaveBlocker.stop(blocker);
      blocker = undefined;
    }
  };

  // ---- tray ---------------------------------------------------------------------------------------
  const jobLines = (): JobLine[] =>
    host.names().map((name) => {
      const s = host.summary(name);
      return { name, running: s.running, paused: s.progress.waiting === 'paused', done: s.progress.tiles.done ?? 0, total: s.progress.total };
    });
  const allJobs = async (type: 'pause' | 'resume') => {
    for (const job of host.names()) await host.command({ type, job }).catch((e: Error) => console.warn(`tessera: ${type} ${job}: ${e.message}`));
    refresh();
  };
  tray = new Tray(nativeImage.createFromBuffer(Buffer.from(TRAY_ICON_PNG_BASE64, 'base64')));
  tray.on('click', () => showWindow());
  let refreshTimer: NodeJS.Timeout | undefined;
  function refreshSoon() {
    refreshTimer ??= setTimeout(() => {
      refreshTimer = undefined;
      refresh();
    }, 1000);
  }
  function refresh() {
    applyPower();
    if (!tray || tray.isDestroyed()) return;
    const lines = jobLines();
    tray.setToolTip(trayTooltip(lines));
    tray.setContextMenu(
      Menu.buildFromTemplate(
        trayMenu(lines).map((item) => ({
          label: item.label,
          enabled: item.enabled,
          click: () => {
            const a = item.action;
            if (a?.kind === 'show') showWindow();
            else if (a?.kind === 'pause-all') void allJobs('pause');
            else if (a?.kind === 'resume-all') void allJobs('resume');
            else if (a?.kind === 'quit') app.quit();
          },
        })),
      ),
    );
  }
  settings.onChange((s, changed) => {
    if (changed.includes('eeProject')) void host.forgetIdleConnections();
    if (changed.includes('startAtLogin')) applyLoginItem(s);
    if (changed.includes('preventSleep')) applyPower();
  });

  // ---- window -------------------------------------------------------------------------------------
  function showWindow() {
    if (!mainWindow || mainWindow.isDestroyed()) createWindow();
    else {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.show();
      mainWindow.focus();
    }
  }
  function createWindow() {
    mainWindow = new BrowserWindow(mainWindowOptions({ preload: PRELOAD, devTools: devToolsAllowed({ packaged: app.isPackaged, env: process.env }) }));
    mainWindow.once('ready-to-show', () => mainWindow?.show());
    // Closing the window keeps Tessera running in the tray (jobs run for days); Quit is in the tray menu.
    mainWindow.on('close', (e) => {
      if (!quitting && tray && !E2E) {
        e.preventDefault();
        mainWindow?.hide();
      }
    });
    void mainWindow.loadURL(`${APP_SCHEME}://${APP_HOST}/index.html`);
  }

  app.on('second-instance', (_e, argv) => {
    showWindow();
    void openJobs(jobArgs(argv));
  });
  app.on('window-all-closed', () => {
    // stay in the tray
  });
  app.on('activate', () => showWindow());

  // ---- quitting: confirm while jobs run, then stop them as Ctrl-C stops `tessera run` --------------
  let stopped = false;
  app.on('before-quit', (e) => {
    if (stopped) return;
    e.preventDefault();
    void (async () => {
      if (host.busy() && !E2E && !quitting) {
        const r = await dialog.showMessageBox({
          type: 'question',
          message: 'Jobs are running. Quit Tessera?',
          detail: 'Everything is saved: tasks in Earth Engine keep running and are picked up when Tessera starts again.',
          buttons: ['Quit', 'Keep running'],
          defaultId: 1,
          cancelId: 1,
        });
        if (r.response !== 0) return;
      }
      quitting = true;
      ipc.close();
      await account.cancel();
      await host.stop().catch(() => undefined);
      if (blocker !== undefined) powerSaveBlocker.stop(blocker);
      stopped = true;
      tray?.destroy();
      app.quit();
    })();
  });

  // ---- start: the jobs of last time (resumed), plus those named on the command line ----------------
  async function openJobs(paths: string[]) {
    for (const path of paths) {
      const abs = resolve(path);
      try {
        const name = await host.add(abs);
        const files = settings.get().jobFiles;
        if (!files.includes(abs)) settings.set({ jobFiles: [...files, abs] });
        host.start(name);
      } catch (e) {
        notify({ title: 'A job could not be opened', body: `${abs}: ${(e as Error).message}`, key: `open:${abs}:${Date.now()}` });
      }
    }
    refresh();
  }
  if (E2E) {
    // For the Playwright smoke test only (test/desktop/electron-smoke.test.ts): what it cannot see otherwise.
    (globalThis as { tesseraE2E?: unknown }).tesseraE2E = { tray: () => ({ exists: !!tray && !tray.isDestroyed(), tooltip: trayTooltip(jobLines()) }) };
  }
  createWindow();
  refresh();
  await openJobs([...settings.get().jobFiles, ...jobArgs(process.argv)]);
}
