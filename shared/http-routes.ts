/**
 * The HTTP face of the transport contract, derived from `INVOKE_CHANNELS` (shared/ipc.ts) and nothing
 * else: `tessera serve` matches requests with `matchRoute`/`requestOf` (main/server/server.ts), the page
 * builds them with `httpCallOf` (renderer/transport/http-sse.ts). A channel added to the map is served
 * and called over HTTP with no route written by hand.
 */
import { INVOKE_CHANNELS, INVOKE_NAMES, NO_REQUEST, type InvokeName } from './ipc';

export type HttpMethod = 'GET' | 'POST' | 'PUT';

export interface HttpRoute {
  readonly name: InvokeName;
  readonly method: HttpMethod;
  /** The path after `/api/`, split on `/`; `:field` segments come from the request. */
  readonly segments: readonly string[];
}

/** The names of the channels `tessera serve` answers as routes (the others: the stream, or desktop only). */
export type HttpRoutedName = { [N in InvokeName]: (typeof INVOKE_CHANNELS)[N]['http'] extends string ? N : never }[InvokeName];

const splitPath = (path: string) => path.split('/').slice(2);

export const HTTP_ROUTES: readonly HttpRoute[] = INVOKE_NAMES.flatMap((name) => {
  const http = INVOKE_CHANNELS[name].http;
  if (typeof http !== 'string') return [];
  const [method, path] = http.split(' ') as [HttpMethod, string];
  return [{ name, method, segments: splitPath(path) }];
});

/** The Server-Sent Events stream (the `stream` binding of `subscribe`). */
export const STREAM_PATH = INVOKE_CHANNELS.subscribe.http.stream.split(' ')[1]!;

/** True when the channel takes no request (any body is ignored). */
export const takesNoRequest = (name: InvokeName): boolean => INVOKE_CHANNELS[name].request === NO_REQUEST;

/**
 * The route for a method and a path (after `/api/`, decoded): the channel with its path fields; or the
 * methods that path does take (the server answers 405); or undefined (404).
 */
export function matchRoute(method: string, parts: readonly string[]): { route: HttpRoute; params: Record<string, string> } | { allowed: HttpMethod[] } | undefined {
  const allowed: HttpMethod[] = [];
  for (const route of HTTP_ROUTES) {
    const params = matchSegments(route.segments, parts);
    if (!params) continue;
    if (route.method === method) return { route, params };
    allowed.push(route.method);
  }
  return allowed.length ? { allowed } : undefined;
}

function matchSegments(segments: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let k = 0; k < segments.length; k++) {
    const seg = segments[k]!;
    if (seg.startsWith(':')) params[seg.slice(1)] = parts[k]!;
    else if (seg !== parts[k]) return undefined;
  }
  return params;
}

/** The request of an HTTP call, to be checked with the channel's schema: path fields (GET) or the JSON body. */
export function requestOf(route: HttpRoute, params: Record<string, string>, body: unknown): unknown {
  if (takesNoRequest(route.name)) return undefined;
  if (route.method === 'GET') return Object.keys(params).length ? params : undefined;
  return body ?? {};
}

/** How the page calls a channel over HTTP: method, path (fields encoded) and JSON body; undefined when not routed. */
export function httpCallOf(name: InvokeName, request: unknown): { method: HttpMethod; path: string; body?: string } | undefined {
  const route = HTTP_ROUTES.find((r) => r.name === name);
  if (!route) return undefined;
  const fields = (request ?? {}) as Record<string, unknown>;
  const path = `/api/${route.segments.map((s) => (s.startsWith(':') ? encodeURIComponent(String(fields[s.slice(1)] ?? '')) : s)).join('/')}`;
  if (route.method === 'GET') return { method: route.method, path };
  return { method: route.method, path, body: JSON.stringify(takesNoRequest(name) ? {} : (request ?? {})) };
}
