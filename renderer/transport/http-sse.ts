import type { Command } from '../../shared/contract';
import { SERVICE_ROUTES, type ServiceName } from './services';
import { TransportError, type ConnectionState, type Transport } from './types';

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
export class HttpSseTransport implements Transport {
  private readonly base: string;

  constructor(private readonly options: HttpSseOptions) {
    this.base = options.base ?? '';
  }

  snapshot(): Promise<unknown> {
    return this.get('/api/snapshot');
  }

  summary(job: string): Promise<unknown> {
    return this.get(`/api/jobs/${encodeURIComponent(job)}/summary`);
  }

  tile(job: string, id: string): Promise<unknown> {
    return this.get(`/api/jobs/${encodeURIComponent(job)}/tiles/${encodeURIComponent(id)}`);
  }

  async command(cmd: Command): Promise<unknown> {
    const r = await fetch(`${this.base}/api/command`, {
      method: 'POST',
      headers: { ...this.auth(), 'Content-Type': 'application/json' },
      body: JSON.stringify(cmd),
      cache: 'no-store',
    });
    return answer(r);
  }

  async wizard(kind: 'preview' | 'create' | 'check-recipe', body: unknown): Promise<unknown> {
    const r = await fetch(`${this.base}/api/wizard/${kind === 'preview' ? 'preview' : kind === 'create' ? 'jobs' : 'recipe-check'}`, {
      method: 'POST',
      headers: { ...this.auth(), 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
    return answer(r);
  }

  async upload(file: Blob, name: string): Promise<unknown> {
    const r = await fetch(`${this.base}/api/wizard/upload?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { ...this.auth(), 'Content-Type': 'application/octet-stream' },
      body: file,
      cache: 'no-store',
    });
    return answer(r);
  }

  async service(name: ServiceName, body?: unknown): Promise<unknown> {
    const { method, path } = SERVICE_ROUTES[name];
    const r = await fetch(`${this.base}${path}`, {
      method,
      headers: { ...this.auth(), ...(method === 'GET' ? {} : { 'Content-Type': 'application/json' }) },
      ...(method === 'GET' ? {} : { body: JSON.stringify(body ?? {}) }),
      cache: 'no-store',
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
          const r = await fetch(`${this.base}/api/events`, { headers: { ...this.auth(), Accept: 'text/event-stream' }, signal: controller.signal, cache: 'no-store' });
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

  private async get(path: string): Promise<unknown> {
    const r = await fetch(`${this.base}${path}`, { headers: this.auth(), cache: 'no-store' });
    return answer(r);
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
