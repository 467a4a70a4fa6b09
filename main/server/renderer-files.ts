import { extname } from 'node:path';

/**
 * The content types of the built renderer's files, for both ways it is served: `tessera serve` over
 * HTTP and the desktop app's custom protocol. A file of any other type is never served.
 */
const RENDERER_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

export function rendererContentType(name: string): string | undefined {
  return RENDERER_TYPES[extname(name).toLowerCase()];
}
