import { unwrap, type InvokeName, type IpcResult, type TesseraApi } from '../../shared/ipc';
import type { FileKind } from '../../shared/dashboard';
import type { ServiceName, WizardName } from './services';
import { ChannelTransport } from './channel-transport';
import { TransportError, type ConnectionState } from './types';

/** The preload's API as the page sees it (`window.tessera`). */
export type PreloadApi = Pick<TesseraApi, 'snapshot' | 'summary' | 'tile' | 'command' | 'subscribe' | 'unsubscribe' | 'onStream'> & Partial<Pick<TesseraApi, 'compactSnapshot' | ServiceName | WizardName | 'pathForFile' | 'chooseFile' | 'openExternal'>>;

/** The desktop app's preload bridge, when the page runs inside it. */
export function preloadApi(): PreloadApi | undefined {
  const api = (globalThis as { tessera?: unknown }).tessera;
  return api && typeof (api as PreloadApi).snapshot === 'function' ? (api as PreloadApi) : undefined;
}

/**
 * The desktop app's transport: calls through the preload (`window.tessera`, shared/ipc.ts). The stream
 * starts with `subscribe`, whose answer is the position; messages that arrive before it are held, and
 * those the position already includes are dropped, so the `hello` comes first as with the other transports.
 */
export class ElectronTransport extends ChannelTransport {
  constructor(private readonly api: PreloadApi) {
    super();
  }

  /** Any channel, through the preload's method of the same name (shared/ipc.ts `createPreloadApi`). */
  invoke(name: InvokeName, request?: unknown): Promise<unknown> {
    const f = (this.api as Partial<Record<InvokeName, (r?: unknown) => Promise<IpcResult<unknown>>>>)[name];
    if (typeof f !== 'function') return Promise.reject(new TransportError(404, `this window has no ${name}`));
    return this.call(() => f(request));
  }

  get chooseFile(): ((kind: FileKind) => Promise<unknown>) | undefined {
    const api = this.api;
    return api.chooseFile ? (kind) => this.invoke('chooseFile', { kind }) : undefined;
  }

  readonly desktop = true;

  /** A dropped or picked file's path on this computer (undefined when it has none). */
  pathOf(file: File): string | undefined {
    try {
      return this.api.pathForFile?.(file) || undefined;
    } catch {
      return undefined;
    }
  }

  subscribe(onMessage: (m: unknown) => void, onState: (s: ConnectionState) => void): () => void {
    let open = true;
    let hello: number | undefined;
    const early: unknown[] = [];
    const seqOf = (m: unknown) => (typeof (m as { seq?: unknown })?.seq === 'number' ? (m as { seq: number }).seq : Infinity);
    const off = this.api.onStream((m) => {
      if (!open) return;
      if (hello === undefined) early.push(m);
      else onMessage(m);
    });
    onState('connecting');
    this.api.subscribe().then(unwrap).then(
      ({ seq }) => {
        if (!open) return;
        hello = seq;
        onMessage({ kind: 'hello', seq });
        for (const m of early.splice(0)) if (seqOf(m) > seq) onMessage(m);
        onState('open');
      },
      () => {
        if (open) onState('closed');
      },
    );
    return () => {
      open = false;
      off();
      void this.api.unsubscribe().catch(() => undefined);
      onState('closed');
    };
  }

  private async call(f: () => Promise<IpcResult<unknown>>): Promise<unknown> {
    try {
      return unwrap(await f());
    } catch (e) {
      const status = (e as { status?: unknown })?.status;
      throw new TransportError(typeof status === 'number' ? status : 500, (e as Error)?.message ?? String(e));
    }
  }
}
