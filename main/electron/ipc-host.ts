/**
 * The IPC host: the desktop counterpart of main/server/server.ts. The channels both serve come from
 * main/server/handlers.ts; this adds the event stream and the desktop-only channels (shared/ipc.ts). No `electron` import: the composition root passes
 * Electron objects in, tests pass fakes.
 */
import { EVENT_CHANNELS, type InvokeHandlers, type IpcInvokeEventLike } from '../../shared/ipc';
import type { FileKind } from '../../shared/dashboard';
import type { DashboardHost } from '../server/server';
import type { DashboardServices } from '../server/services';
import { dashboardHandlers } from '../server/handlers';
import { RequestError } from '../core/errors';

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
    if (!s || typeof s.send !== 'function' || typeof s.isDestroyed !== 'function') throw new RequestError(400, 'no window to stream to');
    return s;
  };
  const end = (sink: StreamSink) => {
    streams.get(sink)?.();
    streams.delete(sink);
  };
  const handlers: InvokeHandlers = {
    ...dashboardHandlers(host, services, 'app'),
    chooseFile: async ({ kind }) => ({ path: await services.chooseFile(kind) }),
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
    openExternal: async ({ url }) => ({ opened: await services.openExternal(url) }),
  };
  return {
    handlers,
    close: () => {
      for (const sink of [...streams.keys()]) end(sink);
    },
    subscribers: () => streams.size,
  };
}
