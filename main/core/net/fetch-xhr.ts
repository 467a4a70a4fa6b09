import { dirname } from 'node:path';
import { httpFetch } from './http';
import { XhrBase } from './xhr-base';

/**
 * An asynchronous-only XMLHttpRequest over `httpFetch`, put in place of the `xmlhttprequest` package the
 * Earth Engine client loads (docs/earth-engine-client.md#transport). What it fixes: that package ignores proxy
 * variables and opens a new connection per request; and its synchronous mode spawns a process and
 * busy-waits (hanging Electron for ever) — here `open(…, false)` throws at once instead.
 */
export class FetchXhr extends XhrBase {
  private readonly headers: Record<string, string> = {};
  private responseHeaders: Headers | undefined;
  private controller: AbortController | undefined;

  open(method: string, url: string, async = true): void {
    if (!async) throw new Error('synchronous Earth Engine requests are refused: pass a callback to every ee call');
    this.method = method.toUpperCase();
    this.url = url;
    this.setState(1);
  }

  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }

  send(body?: string | null): void {
    this.controller = new AbortController();
    const withBody = this.method !== 'GET' && this.method !== 'HEAD';
    const answered = httpFetch(this.url, { method: this.method, headers: this.headers, body: withBody ? (body ?? '') : undefined, signal: this.controller.signal }).then(async (res) => {
      // The body is read before anything is reported: a body that fails midway (a reset, a body timeout)
      // is a request without an answer, like one whose headers never came.
      const text = await res.text();
      return { res, text };
    });
    answered.then(
      ({ res, text }) => {
        this.status = res.status;
        this.statusText = res.statusText;
        this.responseHeaders = res.headers as unknown as Headers;
        this.setState(2);
        this.responseText = text;
        this.response = text;
        this.setState(4);
        this.onload?.();
      },
      (e: unknown) => {
        // Like the replaced package: status 0 and the error in the text, so the client reports
        // "Invalid JSON: Error: connect ECONNREFUSED …" and Tessera can tell it is offline.
        const cause = (e as { cause?: { message?: string } }).cause?.message;
        this.status = 0;
        this.responseText = `Error: ${cause ?? (e as Error).message}`;
        this.setState(4);
        this.onerror?.(e);
      },
    );
  }

  abort(): void {
    this.controller?.abort();
  }

  getResponseHeader(name: string): string | null {
    return this.responseHeaders?.get(name) ?? null;
  }

  getAllResponseHeaders(): string {
    if (!this.responseHeaders) return '';
    let out = '';
    this.responseHeaders.forEach((v, k) => (out += `${k}: ${v}\r\n`));
    return out;
  }
}

/** Makes `@google/earthengine` load FetchXhr instead of `xmlhttprequest`; call before requiring it. */
export function routeEarthEngineThroughFetch(): void {
  const eeDir = dirname(require.resolve('@google/earthengine/package.json'));
  const xhrPath = require.resolve('xmlhttprequest', { paths: [eeDir] });
  require.cache[xhrPath] = { id: xhrPath, filename: xhrPath, loaded: true, exports: { XMLHttpRequest: FetchXhr } } as unknown as NodeJS.Module;
}
