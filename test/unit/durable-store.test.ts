import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, readJournal } from '../../main/common/journal';
import { writeFileAtomic, writeFileAtomicSync, writePrivateFileSync } from '../../main/common/atomic-write';

/** The one journal and the one atomic writer of main/common (docs/ARCHITECTURE.md, "The durable store"). */
const scratch = () => mkdtempSync(join(tmpdir(), 'tessera-durable-'));

describe('the journal', () => {
  it('replays what was appended, in order', async () => {
    const path = join(scratch(), 'j.jsonl');
    const first = await Journal.open<number>(path, () => undefined);
    await first.journal.append(1, 2);
    await first.journal.append(3);
    await first.journal.close();
    const seen: number[] = [];
    const again = await Journal.open<number>(path, (n) => seen.push(n));
    expect(seen).toEqual([1, 2, 3]);
    expect(again.replay).toEqual({ entries: 3, validBytes: 6 });
    await again.journal.close();
  });

  it('cuts a torn last line on open, so a later append is replayed', async () => {
    const path = join(scratch(), 'j.jsonl');
    writeFileSync(path, '{"a":1}\n{"a":2}\n{"a":');
    const opened = await Journal.open<{ a: number }>(path, () => undefined);
    expect(opened.replay.damaged).toEqual({ line: 3, followedByMore: false });
    await opened.journal.append({ a: 3 });
    await opened.journal.close();
    const seen: number[] = [];
    await readJournal<{ a: number }>(path, (e) => seen.push(e.a));
    expect(seen).toEqual([1, 2, 3]);
  });

  it('groups appends made while a write is under way, and keeps their order', async () => {
    const path = join(scratch(), 'j.jsonl');
    const { journal } = await Journal.open<number>(path, () => undefined);
    await Promise.all(Array.from({ length: 200 }, (_, k) => journal.append(k)));
    await journal.close();
    expect(readFileSync(path, 'utf8').trim().split('\n').map(Number)).toEqual(Array.from({ length: 200 }, (_, k) => k));
  });

  it('compacts into a snapshot taken at its turn: nothing appended before or after it is lost', async () => {
    const dir = scratch();
    const path = join(dir, 'j.jsonl');
    const state: number[] = [];
    const { journal } = await Journal.open<number>(path, () => undefined);
    const add = (n: number) => {
      state.push(n);
      return journal.append(n);
    };
    const pending = [add(1), add(2), journal.compact(join(dir, 'snap.json'), () => JSON.stringify(state)), add(3)];
    await Promise.all(pending);
    await journal.close();
    // The snapshot holds all that was applied when its turn came; lines queued after it stay in the journal.
    expect(JSON.parse(readFileSync(join(dir, 'snap.json'), 'utf8'))).toEqual([1, 2, 3]);
    const after: number[] = [];
    await readJournal<number>(path, (n) => after.push(n));
    expect(after).toEqual([3]);
    expect(readdirSync(dir).sort()).toEqual(['j.jsonl', 'snap.json']);
  });

  it('reads a missing journal as empty without creating it', async () => {
    const path = join(scratch(), 'none.jsonl');
    expect(await readJournal(path, () => undefined)).toEqual({ entries: 0, validBytes: 0 });
    expect(existsSync(path)).toBe(false);
  });

  it('stops at a damaged line and says more followed it', async () => {
    const path = join(scratch(), 'j.jsonl');
    writeFileSync(path, '1\nnot json\n3\n');
    const seen: number[] = [];
    const r = await readJournal<number>(path, (n) => seen.push(n));
    expect(seen).toEqual([1]);
    expect(r.damaged).toEqual({ line: 2, followedByMore: true });
  });
});

describe('the atomic writer', () => {
  it('replaces a file whole and leaves no temporary file', async () => {
    const dir = scratch();
    const path = join(dir, 'out.json');
    writeFileSync(path, 'old');
    await writeFileAtomic(path, 'new');
    writeFileAtomicSync(join(dir, 'b.txt'), new Uint8Array([65]));
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(dir).sort()).toEqual(['b.txt', 'out.json']);
  });

  it('keeps the old file and removes its temporary file when the rename fails', async () => {
    const dir = scratch();
    const target = join(dir, 'taken');
    mkdirSync(join(target, 'child'), { recursive: true }); // a non-empty folder cannot be renamed over
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });

  it('writes private files 0600 in a folder made 0700', () => {
    const dir = join(scratch(), 'private');
    writePrivateFileSync(join(dir, 'secret.json'), '{}');
    if (process.platform !== 'win32') {
      expect(statSync(join(dir, 'secret.json')).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    }
  });
});
