import type { z } from 'zod';

/**
 * Helpers that turn a job file's mistakes into one line a person can act on: where a JSON syntax error
 * is (line and column), which keys a misspelt key could have meant, and Drive folder names Earth Engine
 * would take differently from what the user means.
 */

/** Line and column (1-based) of a JSON syntax error in `text`, or undefined when it cannot be placed. */
export function jsonErrorPosition(text: string, error: Error): { line: number; column: number } | undefined {
  let at = Number(/at position (\d+)/.exec(error.message)?.[1] ?? NaN);
  if (Number.isNaN(at)) at = /end of JSON input/.test(error.message) ? text.length : firstBadOffset(text);
  if (Number.isNaN(at)) return undefined;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return { line, column: at - before.lastIndexOf('\n') };
}

/**
 * Where parsing goes wrong, for messages without a position (V8 words some errors as "Unexpected token
 * 'x', "…" is not valid JSON"): the longest prefix that is still a valid beginning of JSON, by bisection.
 */
function firstBadOffset(text: string): number {
  const stillValid = (k: number): boolean => {
    try {
      JSON.parse(text.slice(0, k));
      return true;
    } catch (e) {
      const m = (e as Error).message;
      const pos = /at position (\d+)/.exec(m)?.[1];
      return /end of JSON input/.test(m) || (pos !== undefined && Number(pos) >= k);
    }
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (stillValid(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo >= text.length ? NaN : lo;
}

type SchemaDef = { type?: string; innerType?: unknown; in?: unknown; shape?: Record<string, unknown> };
const defOf = (s: unknown): SchemaDef | undefined => (s as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;

/** The keys an object schema knows at `path` (through optional/default wrappers); [] when not an object. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const unwrap = (s: unknown): unknown => {
    for (let k = 0; k < 10; k++) {
      const d = defOf(s);
      if (d && (d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'prefault')) s = d.innerType;
      else if (d?.type === 'pipe') s = d.in;
      else return s;
    }
    return s;
  };
  let s = unwrap(schema);
  for (const p of path) s = unwrap(defOf(s)?.shape?.[String(p)]);
  return Object.keys(defOf(s)?.shape ?? {});
}

/**
 * A Drive folder name Earth Engine would not take as the user means: EE's `folder` is one folder name
 * at any level of My Drive, never a path, so "a/b" makes (or finds) a single folder literally named "a/b".
 */
export function driveFolderProblem(key: string, folder: string): string | undefined {
  if (folder.includes('/')) {
    return `"${key}" is "${folder}": Earth Engine takes it as one folder name with a "/" in it, not as a path; give one folder name such as "${folder.split('/').filter(Boolean).pop() ?? 'tessera'}"`;
  }
  return undefined;
}
