import type { IncomingMessage, ServerResponse } from 'node:http';

/** How much of a refused request body is read and thrown away, at most, before the connection is cut. */
const DISCARD_MAX_BYTES = 512 * 1024 * 1024;
/** Silence allowed while a refused body is still arriving. */
const DISCARD_IDLE_MS = 60_000;
/** What Node gives an idle kept-alive connection (its keepAliveTimeout and margin), restored afterwards. */
const KEEP_ALIVE_MS = 6_000;

/**
 * Answers a request whose body was not read to its end (refused for its size, its type, its name…) so that
 * the client receives the answer. The rest of the body is read and thrown away, at most DISCARD_MAX_BYTES:
 * a connection closed with unread data is reset by the system, and the client would see a reset instead of
 * the answer (docs/security.md, "`tessera serve`"). On a kept-alive connection the answer goes out at once;
 * when the answer ends the connection (the client sent `Connection: close`, or HTTP/1.0), it goes out once
 * the body has arrived — or when the client stalls or sends too much, and the connection is then cut.
 */
export function answerUnread(req: IncomingMessage, res: ServerResponse, send: () => void): void {
  if (req.complete) return send();
  let sent = false;
  let extra = 0;
  const answer = () => {
    if (sent) return;
    sent = true;
    send();
  };
  const idle = setTimeout(() => cut(), DISCARD_IDLE_MS);
  const cut = () => {
    clearTimeout(idle);
    answer();
    req.destroy();
  };
  req.on('data', (c: Buffer) => {
    extra += c.length;
    idle.refresh();
    if (extra > DISCARD_MAX_BYTES) cut();
  });
  req.once('end', () => {
    clearTimeout(idle);
    answer();
  });
  req.once('close', () => clearTimeout(idle));
  req.resume();
  if (!res.shouldKeepAlive) return;
  // Once the answer is out Node gives the connection its short keep-alive timeout: a busy moment would
  // cut a client that is still sending. Until the body has arrived, the idle timer above decides.
  res.once('finish', () => {
    const socket = req.socket;
    if (req.complete || !socket) return;
    socket.setTimeout(0);
    req.once('end', () => socket.setTimeout(KEEP_ALIVE_MS));
  });
  answer();
}
