// A stand-in for the `electron` module (loaded with `node -r`), so the built main bundle can run in plain
// Node: it records what main.cjs asks of Electron, then drives the protocol and IPC handlers and prints
// a JSON report on stdout. Used by test/desktop/main-bundle.test.ts only.
const Module = require('node:module');
const { EventEmitter } = require('node:events');

const report = { windows: [], loaded: [], ipc: [], schemes: null, protocols: [], permissionRequest: null, permissionCheck: null, trays: 0, webContentsCreated: 0, loginItems: [], calls: {} };
const handlers = new Map();
let protocolHandler;

class WebContents extends EventEmitter {
  constructor(url) {
    super();
    this.mainFrame = { url };
    this.openHandler = undefined;
  }
  setWindowOpenHandler(h) { this.openHandler = h; }
  send() {}
  isDestroyed() { return false; }
}
const app = new EventEmitter();
Object.assign(app, {
  isPackaged: false,
  setPath: (k, v) => { report.userData = v; },
  getPath: () => report.userData || require('node:os').tmpdir(),
  getVersion: () => '0.1.0',
  getName: () => 'tessera',
  requestSingleInstanceLock: () => true,
  whenReady: () => Promise.resolve(),
  setLoginItemSettings: (s) => report.loginItems.push(s),
  quit: () => {},
  exit: () => {},
});
class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    report.windows.push(options);
    this.webContents = new WebContents('tessera://app/index.html');
    app.emit('web-contents-created', {}, this.webContents);
    report.webContentsCreated++;
    BrowserWindow.last = this;
  }
  loadURL(url) { report.loaded.push(url); return Promise.resolve(); }
  isDestroyed() { return false; }
  isMinimized() { return false; }
  show() {} focus() {} hide() {} restore() {}
}
class Tray extends EventEmitter {
  constructor() { super(); report.trays++; }
  setToolTip(t) { report.tooltip = t; }
  setContextMenu(m) { report.menu = m; }
  isDestroyed() { return false; }
  destroy() {}
}
const electron = {
  app,
  BrowserWindow,
  Tray,
  Menu: { buildFromTemplate: (t) => t.map((i) => i.label) },
  nativeImage: { createFromBuffer: (b) => ({ size: b.length }) },
  Notification: Object.assign(class { show() {} on() {} }, { isSupported: () => false }),
  powerSaveBlocker: { start: () => 1, stop: () => {} },
  protocol: { registerSchemesAsPrivileged: (s) => { report.schemes = s; } },
  session: {
    defaultSession: {
      protocol: { handle: (scheme, h) => { report.protocols.push(scheme); protocolHandler = h; } },
      setPermissionRequestHandler: (h) => { report.permissionRequest = h; },
      setPermissionCheckHandler: (h) => { report.permissionCheck = h; },
    },
  },
  ipcMain: { handle: (c, h) => { report.ipc.push(c); handlers.set(c, h); }, removeHandler: (c) => handlers.delete(c), on: () => {} },
  safeStorage: { isAsyncEncryptionAvailable: async () => true, encryptStringAsync: async (s) => Buffer.from(s), decryptStringAsync: async (b) => ({ result: b.toString(), shouldReEncrypt: false }), getSelectedStorageBackend: () => 'gnome_libsecret' },
  shell: { openExternal: async () => {}, openPath: async () => '' },
  dialog: { showMessageBox: async () => ({ response: 1 }) },
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'electron') return 'electron';
  return resolve.call(this, request, ...rest);
};
require.cache.electron = { id: 'electron', filename: 'electron', loaded: true, exports: electron };

setTimeout(async () => {
  const win = BrowserWindow.last;
  const wc = win.webContents;
  const r = await protocolHandler({ url: 'tessera://app/index.html' });
  report.index = { status: r.status, csp: r.headers.get('content-security-policy'), type: r.headers.get('content-type') };
  report.climb = (await protocolHandler({ url: 'tessera://app/%2e%2e/electron/main.cjs' })).status;
  const trusted = { sender: wc, senderFrame: wc.mainFrame };
  report.snapshot = await handlers.get('tessera:snapshot')(trusted, undefined);
  report.settings = await handlers.get('tessera:settings:get')(trusted, undefined);
  report.badCommand = await handlers.get('tessera:command')(trusted, { type: 'explode' });
  const other = new WebContents('tessera://app/index.html');
  report.otherSender = await handlers.get('tessera:snapshot')({ sender: other, senderFrame: other.mainFrame }, undefined);
  report.subframe = await handlers.get('tessera:snapshot')({ sender: wc, senderFrame: { url: 'tessera://app/index.html' } }, undefined);
  let prevented = false;
  wc.emit('will-navigate', { url: 'https://evil.example/', preventDefault: () => (prevented = true) });
  report.navigationPrevented = prevented;
  report.windowOpen = wc.openHandler({ url: 'https://evil.example/' });
  let granted;
  report.permissionRequest('x', 'geolocation', (g) => (granted = g));
  report.permissionGranted = granted;
  report.permissionRequest = typeof report.permissionRequest;
  report.permissionCheck = report.permissionCheck({}, 'notifications');
  process.stdout.write('REPORT ' + JSON.stringify(report) + '\n');
  process.exit(0);
}, 1500);
