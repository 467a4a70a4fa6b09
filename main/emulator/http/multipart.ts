/**
 * multipart/related bodies (RFC 2046 §5.1, RFC 2387), as Drive's and Cloud Storage's multipart uploads
 * send them: a metadata part and a media part between `--boundary` delimiters.
 */

/** One part: its headers (names lower-cased) and its content. */
export interface MultipartPart {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** The boundary a multipart Content-Type names (quoted or not), or undefined. */
export function multipartBoundary(contentType: string | string[] | undefined): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(String(contentType ?? ''));
  return (m?.[1] ?? m?.[2])?.trim() || undefined;
}

/**
 * The parts of a multipart body; undefined when it is malformed: a part not followed by another delimiter
 * (the body ends before its closing `--boundary--`), or a part without the blank line after its headers.
 */
export function splitMultipart(body: Buffer, boundary: string): MultipartPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) return undefined;
    // From the delimiter's line end: headers, a blank line, the content, the CRLF before the next delimiter.
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) return undefined;
    const headers: Record<string, string> = {};
    for (const line of part.subarray(0, headerEnd).toString('utf8').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const content = part.subarray(headerEnd + 4);
    parts.push({ headers, body: content.subarray(-2).toString() === '\r\n' ? content.subarray(0, -2) : content });
    at = next;
  }
  return parts;
}
