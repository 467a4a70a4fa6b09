import { XhrBase } from '../../net/xhr-base';
import { NO_COMPUTE } from './protocol';

/**
 * The XMLHttpRequest the Earth Engine client gets inside a recipe's child process: it reaches no network.
 * The one request the client must make to build expressions — the list of algorithms, at start — is
 * answered by the parent (which holds the credentials); every other request (getInfo, evaluate, asset
 * listings…) is refused with NO_COMPUTE, and reported so the build fails at once.
 */
export interface OfflineTransport {
  algorithms(url: string): Promise<string>;
  refused(what: string): void;
}

let transport: OfflineTransport | undefined;

export function setOfflineTransport(t: OfflineTransport): void {
  transport = t;
}

const ALGORITHMS = /^\/(?:v1|v1alpha|v1beta)\/projects\/[^/]+\/algorithms$/;

export class OfflineXhr extends XhrBase {
  static readonly DONE = 4;

  open(method: string, url: string, async = true): void {
    this.method = method.toUpperCase();
    this.url = url;
    if (!async) {
      transport?.refused(`${this.method} ${url}`);
      throw new Error(NO_COMPUTE);
    }
    this.readyState = 1;
  }

  setRequestHeader(): void {}

  send(): void {
    let path = '';
    try {
      path = new URL(this.url).pathname;
    } catch {
      // not a URL: refused below
    }
    if (this.method === 'GET' && ALGORITHMS.test(path) && transport) {
      transport.algorithms(this.url).then(
        (body) => this.answer(200, body),
        (e: unknown) => this.answer(503, JSON.stringify({ error: { code: 503, message: (e as Error).message, status: 'UNAVAILABLE' } })),
      );
      return;
    }
    transport?.refused(`${this.method} ${path || this.url}`);
    queueMicrotask(() => this.answer(400, JSON.stringify({ error: { code: 400, message: NO_COMPUTE, status: 'FAILED_PRECONDITION' } })));
  }

  abort(): void {}

  getResponseHeader(name: string): string | null {
    return name.toLowerCase() === 'content-type' ? 'application/json; charset=utf-8' : null;
  }

  getAllResponseHeaders(): string {
    return 'content-type: application/json; charset=utf-8\r\n';
  }

  private answer(status: number, body: string): void {
    this.status = status;
    this.statusText = status === 200 ? 'OK' : 'Error';
    this.responseText = body;
    this.response = body;
    this.setState(4);
    this.onload?.();
  }
}

/** The module shape the Earth Engine client requires as `xmlhttprequest`. */
export const XMLHttpRequest = OfflineXhr;
