/**
 * Google's batch format (multipart/mixed of `application/http` parts), as the EE client sends it for
 * several getOperation / cancelOperation calls (docs/earth-engine-client.md#batch-requests) and as its parseBatchReply reads the
 * answer: each reply part carries `Content-ID: <response-{id}>`, then a status line, headers and JSON.
 */
export interface BatchPart {
  readonly contentId: string | null;
  readonly method: string;
  /** Path and query, as in the part's request line. */
  readonly target: string;
  /** Lower-case names. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface BatchAnswer {
  readonly contentId: string | null;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export class BatchError extends Error {}

export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/mixed\b/i.test(contentType)) return null;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? ((m[1] ?? m[2]) as string) : null;
}

export function parseBatch(body: Buffer, boundary: string): BatchPart[] {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const chunks = text.split(delimiter);
  const parts: BatchPart[] = [];
  // chunks[0] is the preamble; the chunk after the closing delimiter starts with "--".
  for (const raw of chunks.slice(1)) {
    if (raw.startsWith('--')) break;
    const chunk = raw.replace(/^\r?\n/, '');
    const [outerHead, inner] = splitHead(chunk);
    if (inner === null) throw new BatchError('a batch part has no body');
    const outer = parseHeaders(outerHead);
    const [innerHead, innerBody] = splitHead(inner);
    const lines = innerHead.split(/\r?\n/);
    const requestLine = lines.shift() ?? '';
    const m = /^([A-Z]+)\s+(\S+)(?:\s+HTTP\/\d(?:\.\d)?)?$/.exec(requestLine.trim());
    if (!m) throw new BatchError(`bad request line in batch part: ${requestLine}`);
    const idMatch = /^<?(.*?)>?$/.exec(outer['content-id'] ?? '');
    parts.push({
      contentId: outer['content-id'] === undefined ? null : (idMatch?.[1] ?? null),
      method: m[1] as string,
      target: m[2] as string,
      headers: parseHeaders(lines.join('\r\n')),
      body: Buffer.from((innerBody ?? '').replace(/\r?\n$/, ''), 'latin1'),
    });
  }
  return parts;
}

export function buildBatchReply(answers: readonly BatchAnswer[], boundary: string): string {
  let out = '';
  for (const a of answers) {
    out += `--${boundary}\r\nContent-Type: application/http\r\n`;
    if (a.contentId !== null) out += `Content-ID: <response-${a.contentId}>\r\n`;
    out += `\r\nHTTP/1.1 ${a.status} ${reasonPhrase(a.status)}\r\n`;
    for (const [k, v] of Object.entries(a.headers)) out += `${k}: ${v}\r\n`;
    out += `\r\n${a.body}\r\n`;
  }
  return `${out}--${boundary}--\r\n`;
}

function splitHead(s: string): [string, string | null] {
  const m = /\r?\n\r?\n/.exec(s);
  if (!m) return [s, null];
  return [s.slice(0, m.index), s.slice(m.index + m[0].length)];
}

function parseHeaders(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

const REASONS: Record<number, string> = {
  200: 'OK', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  409: 'Conflict', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}
