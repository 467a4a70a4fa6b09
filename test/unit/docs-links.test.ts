import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli';

/**
 * Every Markdown file a source comment cites must be in this repository, and a cited `#section` must be a
 * heading of it: a reader of the code follows the reference and lands on the rule (docs/CONTRIBUTING.md).
 */
const ROOTS = ['main', 'shared', 'renderer', 'test', 'bench', 'scripts'];
const SOURCE = new Set(['.ts', '.tsx', '.mjs', '.cjs', '.mts', '.cts']);
const SKIP = new Set(['node_modules', '.fixtures', 'out']);
/** A path ending in `.md`, with an optional `#anchor` (not `.md5…`: the name must end there). */
const CITATION = /(?<![\w/.-])((?:\.{1,2}\/|\/)?(?:[\w.-]+\/)*[\w-][\w.-]*\.md)(?![\w])(?:#([\w-]+))?/g;

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (SOURCE.has(extname(name))) yield path;
  }
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const explicit = /<a (?:id|name)="([^"]+)"/.exec(line);
    if (explicit) out.add(explicit[1]!);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** What is wrong with one citation, or null when it resolves to a file (and heading) of the repo. */
function problemOf(citingFile: string, cited: string, anchor: string | undefined): string | null {
  const candidates = cited.startsWith('/') ? [cited] : [resolve(dirname(citingFile), cited), resolve(REPO, cited)];
  const inside = candidates.filter((p) => p === REPO || p.startsWith(REPO + sep));
  if (inside.length === 0) return `${cited} is outside the repository`;
  const found = inside.find((p) => existsSync(p));
  if (!found) return `${cited} is not in the repository`;
  if (anchor && !anchorsOf(readFileSync(found, 'utf8')).has(anchor)) return `${cited} has no section #${anchor}`;
  return null;
}

function brokenCitations(files: Iterable<string>): string[] {
  const broken: string[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(CITATION)) {
        const problem = problemOf(file, m[1]!, m[2]);
        if (problem) broken.push(`${relative(REPO, file)}:${i + 1}: ${problem}`);
      }
    });
  }
  return broken;
}

describe('documents cited in source comments', () => {
  it('are all in the repository, with the cited sections', () => {
    const files = ROOTS.flatMap((root) => [...sources(join(REPO, root))]);
    expect(files.length).toBeGreaterThan(100);
    expect(brokenCitations(files)).toEqual([]);
  });

  it('refuses a citation of a file outside the repository, a missing file or a missing section', () => {
    const here = join(REPO, 'main', 'core', 'x.ts');
    expect(problemOf(here, '../../../shared/CONTRACTS' + '.md', undefined)).toMatch(/outside the repository/);
    expect(problemOf(here, 'research/ee_client' + '.md', undefined)).toMatch(/not in the repository/);
    expect(problemOf(here, 'README' + '.md', undefined)).toBeNull();
    expect(problemOf(here, 'README' + '.md', 'no-such-section-here')).toMatch(/no section/);
  });

  it('finds the citations in a line, and not names that merely contain ".md"', () => {
    const found = (line: string) => [...line.matchAll(CITATION)].map((m) => (m[2] ? `${m[1]}#${m[2]}` : m[1]));
    expect(found('/** Tile ids (docs/grid' + '.md#tile-ids), see also ../shared/X' + '.md §2 */')).toEqual(['docs/grid' + '.md#tile-ids', '../shared/X' + '.md']);
    expect(found('if (f.md5Checksum !== file.md5) throw new Error(md);')).toEqual([]);
  });

  it('reads headings as GitHub anchors them', () => {
    expect([...anchorsOf('# Tiles\n## Split children\n## `tessera grid`: a, b\n```\n# not a heading\n```\n## Tiles')]).toEqual([
      'tiles', 'split-children', 'tessera-grid-a-b', 'tiles-1',
    ]);
  });
});
