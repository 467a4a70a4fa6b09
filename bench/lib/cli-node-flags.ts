import { readFileSync } from 'node:fs';
import { BIN } from './emulator';

/**
 * The V8 flags `tessera` starts Node with: the arguments after `node` on its launcher's first line
 * (`#!/usr/bin/env -S node …`, bin/tessera.cjs; docs/scale.md, "CPU per cycle and the collector"). A
 * benchmark that stands for `tessera run` starts its process with the same ones, read from there so the two
 * cannot drift apart.
 */
export function cliNodeFlags(): string[] {
  const first = readFileSync(BIN, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node((?:\s+--[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  if (!m) throw new Error(`${BIN}: its first line is not "#!/usr/bin/env -S node [--flags]": ${first}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}
