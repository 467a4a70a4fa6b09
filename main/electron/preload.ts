/**
 * The preload: bundled into one CommonJS file (out/electron/preload.cjs; a sandboxed preload can require
 * only `electron` and a few built-ins). It exposes `window.tessera` — one method per channel of
 * shared/ipc.ts, `onStream` and `pathForFile` — and never `ipcRenderer` itself nor the IPC event object.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { z } from 'zod';
import { createPreloadApi } from '../../shared/ipc';

// The page's CSP forbids eval, and it covers the preload's world too: no compiled validators.
z.config({ jitless: true });

// The wizard takes dropped files as paths (the desktop app never uploads): only the preload can read one.
contextBridge.exposeInMainWorld('tessera', { ...createPreloadApi(ipcRenderer), pathForFile: (file: File) => webUtils.getPathForFile(file) });
