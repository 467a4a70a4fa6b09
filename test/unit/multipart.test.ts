// The emulator's one multipart/related parser (main/emulator/http/multipart.ts), used by Drive's and Cloud
// Storage's multipart uploads: the parts as the clients send them, and malformed bodies refused whole.
import { describe, expect, it } from 'vitest';
import { multipartBoundary, splitMultipart } from '../../main/emulator/http/multipart';

const body = (...lines: string[]) => Buffer.from(lines.join('\r\n'));

describe('multipart/related bodies', () => {
  it('splits a metadata part and a media part, with their headers, bytes untouched', () => {
    const parts = splitMultipart(body('--b1', 'Content-Type: application/json', '', '{"name":"x"}', '--b1', 'content-type: image/tiff', '', 'A\r\nB', '--b1--', ''), 'b1');
    expect(parts?.map((p) => p.headers)).toEqual([{ 'content-type': 'application/json' }, { 'content-type': 'image/tiff' }]);
    expect(parts?.map((p) => p.body.toString())).toEqual(['{"name":"x"}', 'A\r\nB']);
  });

  it('refuses a body that ends before its closing delimiter, or a part without the blank line after its headers', () => {
    expect(splitMultipart(body('--b1', 'Content-Type: application/json', '', '{}', '--b1', '', 'bytes'), 'b1')).toBeUndefined();
    expect(splitMultipart(body('--b1', 'Content-Type: application/json', '--b1--'), 'b1')).toBeUndefined();
  });

  it('reads the boundary of a Content-Type, quoted or not', () => {
    expect(multipartBoundary('multipart/related; boundary="abc def"')).toBe('abc def');
    expect(multipartBoundary('multipart/related; boundary=xyz; charset=utf-8')).toBe('xyz');
    expect(multipartBoundary('application/json')).toBeUndefined();
  });
});
