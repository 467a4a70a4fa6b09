import { Agent, ProxyAgent, fetch as undiciFetch, type Dispatcher, type RequestInit, type Response } from 'undici';

/**
 * `fetch` for every request Tessera sends itself: it honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY (Node's
 * global fetch does not) and keeps connections alive. Drive and OAuth go through gaxios, which reads the
 * same variables; Earth Engine's client is routed here by `fetch-xhr.ts`.
 */
export function httpFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return undiciFetch(url, { ...init, dispatcher: dispatcherFor(new URL(url)) });
}

const direct = new Agent({ keepAliveTimeout: 10_000 });
const proxies = new Map<string, ProxyAgent>();

/** The connection pool for a URL: direct, or through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY says otherwise. */
export function dispatcherFor(url: URL): Dispatcher {
  const env = process.env;
  const proxy = url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!proxy || bypassesProxy(url, env.NO_PROXY ?? env.no_proxy ?? '')) return direct;
  let agent = proxies.get(proxy);
  if (!agent) proxies.set(proxy, (agent = new ProxyAgent(proxy)));
  return agent;
}

/** NO_PROXY as curl reads it: `*`, host names (a leading dot or not: the domain and its subdomains), IPs, optional ports. */
export function bypassesProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    // A bare IPv6 address has several colons and no port; otherwise "host[:port]" or "[v6][:port]".
    const m = (entry.match(/:/g) ?? []).length > 1 && !entry.startsWith('[') ? [entry, entry, undefined] : /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) continue;
    const name = m[1]!.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (m[2] && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}
