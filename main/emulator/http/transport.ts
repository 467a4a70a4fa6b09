/** Node's HTTP plumbing under the router: reading a request body, and writing a Reply — including the
 * lost, reset and cut-short answers the fault plan asks for. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FileBody, sendFileBody } from './file-body';
import type { Reply } from './reply';

/** Google refuses larger request bodies too ("Request payload size exceeds the limit: 10485760 bytes."). */
export const MAX_BODY = 10 * 1024 * 1024;

/** The body, or null when it is larger than Google accepts. */
export async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) tooLarge = true;
    else chunks.push(b);
  }
  return tooLarge ? null : Buffer.concat(chunks);
}

export function lowerHeaders(h: IncomingMessage['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export function send(res: ServerResponse, reply: Reply): void {
  if (reply.lost === 'close') {
    // A clean close with nothing sent: the client sees "other side closed" (or a socket hang up).
    const socket = res.socket;
    if (socket && !socket.destroyed) socket.end(() => socket.destroy());
    return;
  }
  if (reply.lost === 'timeout') {
    // No answer at all: the connection stays open until the client gives up or the emulator stops.
    return;
  }
  if (reply.reset) {
    if (reply.body instanceof FileBody) reply.body.destroy();
    resetSocket(res.socket);
    return;
  }
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  const body = reply.body;
  if (body instanceof FileBody) {
    res.writeHead(reply.status, headers);
    const cut = reply.cut;
    if (cut && cut.afterBytes <= 0) res.flushHeaders();
    sendFileBody(res, body, cut ? cut.afterBytes : Infinity).then(
      () => (cut ? cutConnection(res, cut.how) : res.end()),
      () => res.destroy(),
    );
    return;
  }
  const buf = body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (reply.status !== 204 && reply.status !== 304) headers['Content-Length'] = String(buf.length);
  res.writeHead(reply.status, headers);
  res.end(reply.status === 204 ? undefined : buf);
}

/** A connection reset (RST) where the platform can send one; otherwise a plain close. */
function resetSocket(socket: Socket | null): void {
  if (!socket || socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Ends a media answer cut short: a reset, or (truncation) what was written is flushed, then a FIN. */
function cutConnection(res: ServerResponse, how: NonNullable<Reply['cut']>['how']): void {
  const socket = res.socket;
  if (how === 'reset') resetSocket(socket);
  else if (socket && !socket.destroyed) socket.end(() => socket.destroy());
}
