/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * Network lock-down of a recipe's child process, run before the recipe is compiled. Node's permission
 * model (see launch.ts) forbids file writes, reads beyond the child's own script, child processes, workers,
 * native addons and `process.binding`, but not sockets; every way a script reaches the network goes through
 * the functions replaced here (net/tls/http/http2 connect through `net.Socket.prototype.connect`; fetch and
 * WebSocket are globals; DNS lookups would leak names). The child holds no credentials either way.
 */
export const NO_NETWORK = 'a recipe has no network access: it builds an Earth Engine expression, and Tessera sends it';

function refuse(): never {
  throw new Error(NO_NETWORK);
}

function seal(target: object, key: string): void {
  Object.defineProperty(target, key, { value: refuse, writable: false, configurable: false, enumerable: false });
}

export function lockDownNetwork(): void {
  const net = require('node:net') as typeof import('node:net');
  const dgram = require('node:dgram') as typeof import('node:dgram');
  const dns = require('node:dns') as typeof import('node:dns');
  seal(net.Socket.prototype, 'connect');
  seal(net.Server.prototype, 'listen');
  for (const k of ['bind', 'connect', 'send'] as const) seal(dgram.Socket.prototype, k);
  for (const target of [dns, dns.promises, dns.Resolver.prototype, dns.promises.Resolver.prototype] as Record<string, unknown>[]) {
    for (const k of Object.keys(target)) if (typeof target[k] === 'function' && !/^[A-Z]/.test(k)) seal(target, k);
    for (const k of Object.getOwnPropertyNames(target)) if (k !== 'constructor' && typeof target[k] === 'function' && !/^[A-Z]/.test(k)) seal(target, k);
  }
  for (const k of ['fetch', 'WebSocket', 'EventSource']) {
    if (k in globalThis) Object.defineProperty(globalThis, k, { get: refuse, configurable: false });
  }
}
