/**
 * The preload: bundled into one CommonJS file (out/electron/preload.cjs; a sandboxed preload can require
 * only `electron` and a few built-ins). It exposes `window.tessera` — one method per channel of
 * shared/ipc.ts and `onStream` — and never `ipcRenderer` itself nor the IPC event object.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { z } from 'zod';
import { createPreloadApi } from '../../shared/ipc';

// The page's CSP forbids eval, and it covers the preload's world too: no compiled validators.
z.config({ jitless: true });

contextBridge.exposeInMainWorld('tessera', createPreloadApi(ipcRenderer));
