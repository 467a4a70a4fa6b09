import type { InvokeName } from '../../shared/ipc';
import { httpCallOf, STREAM_PATH } from '../../shared/http-routes';
import { ChannelTransport } from './channel-transport';
import { TransportError, type ConnectionState } from './types';

/** Answers are never cached (spread: Node's fetch types, used when tests typecheck this file, lack `cache`). */
const NO_STORE = { cache: 'no-store' } as const;

export interface HttpSseOptions {
  /** The token of `tessera serve` (from the URL fragment). */
  token: string;
  /** Origin of the server; '' = the page's own. */
  base?: string;
  /** A stream silent for this long (ms) is taken as dead and reopened (the server pings every 15 s). */
  idleTimeoutMs?: number;
}

/**
 * `tessera serve`'s transport: requests with `Authorization: Bearer <token>`, and the event stream read
 * with fetch (EventSource cannot send a header, and a cookie would be shared with every port of
 * 127.0.0.1). Reconnects with bounded back-off; every reconnection starts with a `hello`.
 */
export class HttpSseTransport extends ChannelTransport {
  private readonly base: string;

  constructor(private readonly options: HttpSseOptions) {
    super();
    this.base = options.base ?? '';
  }

  /** Any channel with an HTTP route (shared/http-routes.ts builds method, path and body from the channel map). */
  async invoke(name: InvokeName, request?: unknown): Promise<unknown> {
    const call = httpCallOf(name, request);
    if (!call) throw new TransportError(404, `tessera serve does not carry ${name}`);
    const r = await fetch(`${this.base}${call.path}`, {
      method: call.method,
      headers: { ...this.auth(), ...(call.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(call.body === undefined ? {} : { body: call.body }),
      ...NO_STORE,
    });
    return answer(r);
  }

  async upload(file: Blob, name: string): Promise<unknown> {
    const r = await fetch(`${this.base}/api/wizard/upload?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { ...this.auth(), 'Content-Type': 'application/octet-stream' },
      body: file,
      ...NO_STORE,
    });
    return answer(r);
  }

  subscribe(onMessage: (m: unknown) => void, onState: (s: ConnectionState) => void): () => void {
    let stopped = false;
    let controller: AbortController | undefined;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    let wakeUp: (() => void) | undefined;
    const idle = this.options.idleTimeoutMs ?? 45_000;
    const arm = () => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => controller?.abort(), idle);
    };
    const loop = async () => {
      let delay = 500;
      while (!stopped) {
        controller = new AbortController();
        try {
          onState('connecting');
          arm();
          const r = await fetch(`${this.base}${STREAM_PATH}`, { headers: { ...this.auth(), Accept: 'text/event-stream' }, signal: controller.signal, ...NO_STORE });
          if (r.status === 401) {
            onState('unauthorized');
            return;
          }
          if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
          onState('open');
          delay = 500;
          const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            arm();
            buffer += value;
            for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = block
                .split('\n')
                .filter((l) => l.startsWith('data:'))
                .map((l) => l.slice(5).replace(/^ /, ''))
                .join('\n');
              if (!data) continue;
              let message: unknown;
              try {
                message = JSON.parse(data);
              } catch {
                continue;
              }
              onMessage(message);
            }
          }
        } catch {
          // network error, server gone, or the watchdog: reconnect below
        }
        if (watchdog) clearTimeout(watchdog);
        if (stopped) break;
        onState('reconnecting');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wakeUp = undefined;
        delay = Math.min(delay * 2, 15_000);
      }
      onState('closed');
    };
    void loop();
    return () => {
      stopped = true;
      controller?.abort();
      wakeUp?.();
      if (watchdog) clearTimeout(watchdog);
    };
  }

  private auth(): Record<string, string> {
    return { Authorization: `Bearer ${this.options.token}` };
  }
}

async function answer(r: Response): Promise<unknown> {
  const text = await r.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!r.ok) {
    const message = typeof (body as { error?: unknown })?.error === 'string' ? (body as { error: string }).error : `HTTP ${r.status}`;
    throw new TransportError(r.status, message);
  }
  return body;
}
