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

export interface MainWindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  title: string;
  backgroundColor: string;
  icon?: string;
  webPreferences: {
    preload: string;
    contextIsolation: true;
    sandbox: true;
    nodeIntegration: false;
    nodeIntegrationInWorker: false;
    nodeIntegrationInSubFrames: false;
    webSecurity: true;
    allowRunningInsecureContent: false;
    experimentalFeatures: false;
    webviewTag: false;
    navigateOnDragDrop: false;
    spellcheck: false;
    devTools: boolean;
  };
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
    webPreferences: {
      preload: input.preload,
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
      devTools: input.devTools ?? true,
    },
  };
}
