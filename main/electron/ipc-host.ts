/**
 * The IPC host: the desktop counterpart of main/server/server.ts. It turns the engine host (JobHost) and
 * the app's services into the handlers of shared/ipc.ts. No `electron` import: the composition root passes
 * Electron objects in, tests pass fakes.
 */
import { EVENT_CHANNELS, type InvokeHandlers, type IpcInvokeEventLike } from '../../shared/ipc';
import type { FileKind } from '../../shared/dashboard';
import type { DashboardHost } from '../server/server';
import type { DashboardServices } from '../server/services';

/** Where a window's stream goes: the sender webContents (`send`, `isDestroyed`, `once('destroyed')`). */
export interface StreamSink {
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
  once?(event: 'destroyed', listener: () => void): unknown;
}

export interface DesktopServices extends DashboardServices {
  /** Opens an allowed https URL in the system browser; false when the URL is not allowed. */
  openExternal(url: string): Promise<boolean>;
  /** The wizard's file choice: the system's open dialog (main.ts: `dialog.showOpenDialog`); null when cancelled. */
  chooseFile(kind: FileKind): Promise<string | null>;
}

export interface DesktopIpc {
  handlers: InvokeHandlers;
  /** Ends every window's stream (quit). */
  close(): void;
  /** Windows subscribed now (tests, tray). */
  subscribers(): number;
}

export function desktopHandlers(host: DashboardHost, services: DesktopServices): DesktopIpc {
  const streams = new Map<StreamSink, () => void>();
  const sinkOf = (event: IpcInvokeEventLike): StreamSink => {
    const s = event.sender as StreamSink | undefined;
    if (!s || typeof s.send !== 'function' || typeof s.isDestroyed !== 'function') throw Object.assign(new Error('no window to stream to'), { status: 400 });
    return s;
  };
  const end = (sink: StreamSink) => {
    streams.get(sink)?.();
    streams.delete(sink);
  };
  const handlers: InvokeHandlers = {
    snapshot: () => host.snapshot(),
    summary: ({ job }) => host.summary(job),
    tile: ({ job, id }) => host.tile(job, id),
    command: (cmd) => host.command(cmd),
    previewGrid: (req) => {
      if (!host.previewGrid) throw Object.assign(new Error('this host has no job wizard'), { status: 404 });
      return host.previewGrid(req);
    },
    checkRecipe: (req) => {
      if (!host.checkRecipe) throw Object.assign(new Error('this host has no job wizard'), { status: 404 });
      return host.checkRecipe(req);
    },
    chooseFile: async ({ kind }) => ({ path: await services.chooseFile(kind) }),
    createJob: (req) => {
      if (!host.createJob) throw Object.assign(new Error('this host has no job wizard'), { status: 404 });
      return host.createJob(req);
    },
    subscribe: (_req, event) => {
      const sink = sinkOf(event);
      end(sink);
      // Nothing can happen between subscribing and reading the position (both synchronous): the preload
      // keeps messages that arrive before this answer and drops those the position already includes.
      const unsubscribe = host.subscribe((m) => {
        if (sink.isDestroyed()) return end(sink);
        sink.send(EVENT_CHANNELS.stream.channel, m);
      });
      streams.set(sink, unsubscribe);
      sink.once?.('destroyed', () => end(sink));
      return { seq: host.position() };
    },
    unsubscribe: (_req, event) => {
      end(sinkOf(event));
      return { ok: true };
    },
    getSettings: () => services.settings.get(),
    setSettings: (patch) => services.settings.set(patch),
    authStatus: () => services.auth.status(),
    signIn: ({ acceptWeakStorage }) => services.auth.signIn(acceptWeakStorage ?? false),
    signOut: () => services.auth.signOut(),
    cancelSignIn: () => services.auth.cancelSignIn(),
    setOAuthClient: (input) => services.auth.setClient(input),
    listAssets: ({ folder, recursive }) => services.assets.list(folder, recursive ?? false),
    deleteAssets: ({ names, recursive }) => services.assets.remove(names, recursive ?? false),
    openExternal: async ({ url }) => ({ opened: await services.openExternal(url) }),
    runDoctor: ({ job }) => {
      if (!services.doctor) throw Object.assign(new Error('this app has no checks'), { status: 404 });
      return services.doctor.run(job);
    },
  };
  return {
    handlers,
    close: () => {
      for (const sink of [...streams.keys()]) end(sink);
    },
    subscribers: () => streams.size,
  };
}
