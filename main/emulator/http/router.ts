import type { Caller } from '../auth/oauth';
import type { Reply } from './reply';

/** A request as handlers see it; a `/batch` part becomes one of these too. */
export interface EmuRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  /** Path parameters of the matched route template, URL-decoded. */
  params: Record<string, string>;
  /** Who sent it, once an EE or Drive route has checked the token. */
  caller?: Caller;
  /** True for a part of `POST /batch`. */
  readonly inBatch: boolean;
}

/** Which of Google's services a route belongs to: decides auth, error format and (part 2) faults. */
export type Service = 'ee' | 'drive' | 'storage' | 'oauth';

export type Handler = (req: EmuRequest) => Promise<Reply> | Reply;

export interface Route {
  readonly method: string;
  /** Google-style template, e.g. `/v1/projects/{project}/operations/{operation}:cancel`; also the key in `requests`. */
  readonly template: string;
  readonly service: Service;
  readonly handler: Handler;
  /**
   * Runs beside other requests instead of alone under the emulator's lock: for handlers that change no
   * shared state and take real time (computePixels), so concurrent requests really are concurrent.
   */
  readonly concurrent?: boolean;
}

interface Compiled extends Route {
  readonly regex: RegExp;
  readonly names: string[];
}

export interface Match {
  readonly route: Route;
  readonly params: Record<string, string>;
}

/** First matching route wins, so list literal paths (`/drive/v3/files/trash`) before templated ones. */
export class Router {
  private readonly routes: Compiled[] = [];

  add(...routes: Route[]): this {
    for (const r of routes) {
      const names: string[] = [];
      const pattern = r.template
        .split(/(\{[a-zA-Z]+\*?\})/)
        .map((part) => {
          const m = /^\{([a-zA-Z]+)(\*?)\}$/.exec(part);
          if (!m) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
          names.push(m[1] as string);
          // `{name*}`: several path segments (an asset id), still never a `:verb`.
          return m[2] ? '([^:]+)' : '([^/:]+)';
        })
        .join('');
      this.routes.push({ ...r, regex: new RegExp(`^${pattern}$`), names });
    }
    return this;
  }

  match(method: string, path: string): Match | null {
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        params[n] = safeDecode(m[i + 1] as string);
      });
      return { route: r, params };
    }
    return null;
  }

  /** Whether any route has this path (for 405-style answers). */
  hasPath(path: string): boolean {
    return this.routes.some((r) => r.regex.test(path));
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
