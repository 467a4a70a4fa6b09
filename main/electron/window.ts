/**
 * The main window's options as plain data (no `electron` import): main.ts passes them to BrowserWindow,
 * test/desktop/window.test.ts checks them.
 */
export interface WindowOptionsInput {
  /** Absolute path of the bundled preload (out/electron/preload.cjs). */
  preload: string;
  /** Shown until the renderer has painted (avoids a white flash). */
  show?: boolean;
  icon?: string;
}

/**
 * What isolates the page from the machine: its own JavaScript context, Chromium's sandbox, no Node.js in
 * the page, its workers or frames, web security on, nothing experimental, no <webview>, no navigation by
 * a dropped file.
 */
export const ISOLATED_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: false,
} as const;

export interface MainWindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  title: string;
  backgroundColor: string;
  icon?: string;
  webPreferences: typeof ISOLATED_WEB_PREFERENCES & { preload: string; devTools: boolean };
}

export function mainWindowOptions(input: WindowOptionsInput & { devTools?: boolean }): MainWindowOptions {
  if (!input.preload || !/\.cjs$/.test(input.preload)) throw new Error(`the preload must be the bundled CommonJS file, not ${JSON.stringify(input.preload)}`);
  return {
    width: 1280,
    height: 820,
    minWidth: 720,
    minHeight: 480,
    show: input.show ?? false,
    title: 'Tessera',
    backgroundColor: '#f5f5f4',
    ...(input.icon ? { icon: input.icon } : {}),
    webPreferences: { preload: input.preload, ...ISOLATED_WEB_PREFERENCES, devTools: input.devTools ?? true },
  };
}
