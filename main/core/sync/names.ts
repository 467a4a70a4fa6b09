import { isAbsolute, join, relative, sep } from 'node:path';

/** File name prefix of a tile's outputs and its task description (docs/names.md#file-name-prefix). */
export function filePrefix(job: string, tileId: string): string {
  return `${job}_${tileId}`;
}

export function taskDescription(job: string, tileId: string, attempt: number): string {
  return `${job}_${tileId}_a${attempt}`;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A tile's outputs: `{job}_{tileId}.tif` or split parts `-yMin-xMin`, never matched by prefix alone. */
export function outputPattern(job: string, tileId: string): RegExp {
  return new RegExp(`^${escapeRe(filePrefix(job, tileId))}(-\\d{10}-\\d{10})?\\.(tif|csv|geojson)$`);
}

/**
 * Where a Drive file lands locally. Names come from the network: only a plain file name is accepted, and
 * the result is checked to stay inside the output folder.
 */
export function safeOutputPath(outputDir: string, name: string): string {
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.includes('..')) {
    throw new Error(`refusing the Drive file name ${JSON.stringify(name)}: not a plain file name`);
  }
  const path = join(outputDir, name);
  const rel = relative(outputDir, path);
  if (!rel || rel.startsWith('..') || isAbsolute(rel) || rel.includes(sep)) {
    throw new Error(`refusing the Drive file name ${JSON.stringify(name)}: it would leave the output folder`);
  }
  return path;
}
