import type { Command } from '../../shared/contract';
import { unwrap, type IpcResult, type TesseraApi } from '../../shared/ipc';
import type { FileKind } from '../../shared/dashboard';
import type { ServiceName } from './services';
import { TransportError, type ConnectionState, type Transport } from './types';

/** The preload's API as the page sees it (`window.tessera`). */
export type PreloadApi = Pick<TesseraApi, 'snapshot' | 'summary' | 'tile' | 'command' | 'subscribe' | 'unsubscribe' | 'onStream'> & Partial<Pick<TesseraApi, ServiceName | 'pathForFile' | 'previewGrid' | 'createJob' | 'checkRecipe' | 'chooseFile'>>;

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
export class ElectronTransport implements Transport {
  constructor(private readonly api: PreloadApi) {}

  snapshot(): Promise<unknown> {
    return this.call(() => this.api.snapshot());
  }

  summary(job: string): Promise<unknown> {
    return this.call(() => this.api.summary({ job }));
  }

  tile(job: string, id: string): Promise<unknown> {
    return this.call(() => this.api.tile({ job, id }));
  }

  command(cmd: Command): Promise<unknown> {
    return this.call(() => this.api.command(cmd));
  }

  wizard(kind: 'preview' | 'create' | 'check-recipe', body: unknown): Promise<unknown> {
    const api = this.api;
    if (kind === 'check-recipe' && api.checkRecipe) return this.call(() => api.checkRecipe!(body as never));
    if (kind === 'preview' && api.previewGrid) return this.call(() => api.previewGrid!(body as never));
    if (kind === 'create' && api.createJob) return this.call(() => api.createJob!(body as never));
    return Promise.reject(new Error('this window has no job wizard'));
  }

  get chooseFile(): ((kind: FileKind) => Promise<unknown>) | undefined {
    const api = this.api;
    return api.chooseFile ? (kind) => this.call(() => api.chooseFile!({ kind })) : undefined;
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

  service(name: ServiceName, body?: unknown): Promise<unknown> {
    const f = (this.api as Partial<Record<ServiceName, (r?: unknown) => Promise<IpcResult<unknown>>>>)[name];
    if (typeof f !== 'function') return Promise.reject(new TransportError(404, `this window has no ${name}`));
    return this.call(() => f(body));
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
