/**
 * `tessera assets ls|rm|merge` against the emulator (issue 13, docs/cli.md#every-command): listing with --json,
 * rm refusing without --yes or --recursive, deleting only what was named, merge of an image asset job.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tesseraAsync } from '../helpers/cli';
import { runJob, useEmulator } from '../helpers/emulator';
import { rectangleJob } from '../helpers/job';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 2, dataDir: mkdtempSync(join(tmpdir(), 'emu-assets-cli-')) });
const FOLDER = 'projects/tessera-test/assets/cli/tiles';
const cli = (args: string[]) => tesseraAsync(args);

const live = (prefix: string) => emu.state().assets.filter((a) => a.deletedAt === null && (a.name === prefix || a.name.startsWith(`${prefix}/`)));

describe('tessera assets', () => {
  it('lists, merges, refuses unsafe deletes, then deletes only what was named', { timeout: 120_000 }, async () => {
    const job = rectangleJob('clijob', 2, 2, { drive: undefined, destination: { type: 'asset', folder: FOLDER } }, 64);
    const run = await runJob(job.file, emu.url);
    expect(run.code, run.stderr).toBe(0);
    // An unrelated asset beside the job's collection.
    const other = await cli(['assets', 'ls', 'projects/tessera-test/assets/cli', '--json', '--emulator', emu.url]);
    expect(other.code, other.stderr).toBe(0);
    expect((JSON.parse(other.stdout) as { assets: { name: string; type: string }[] }).assets).toEqual([expect.objectContaining({ name: FOLDER, type: 'IMAGE_COLLECTION' })]);

    const ls = await cli(['assets', 'ls', FOLDER, '--json', '--emulator', emu.url]);
    expect(ls.code, ls.stderr).toBe(0);
    const listed = JSON.parse(ls.stdout) as { assets: { name: string; type: string; sizeBytes: number }[] };
    expect(listed.assets).toHaveLength(4);
    for (const a of listed.assets) expect(a).toMatchObject({ type: 'IMAGE', sizeBytes: expect.any(Number) as number });
    const text = await cli(['assets', 'ls', 'projects/tessera-test/assets/cli', '--recursive', '--emulator', emu.url]);
    expect(text.stdout).toMatch(/5 assets in projects\/tessera-test\/assets\/cli/);

    const merge = await cli(['assets', 'merge', job.file, '--json', '--emulator', emu.url]);
    expect(merge.code, merge.stderr).toBe(0);
    expect(JSON.parse(merge.stdout)).toMatchObject({ merged: FOLDER, type: 'IMAGE_COLLECTION', tiles: 4 });

    const noYes = await cli(['assets', 'rm', listed.assets[0]!.name, '--emulator', emu.url]);
    expect(noYes.code).toBe(1);
    expect(noYes.stderr.trim().split('\n')).toHaveLength(1);
    expect(noYes.stderr).toMatch(/--yes/);
    const notRecursive = await cli(['assets', 'rm', FOLDER, '--yes', '--emulator', emu.url]);
    expect(notRecursive.code).toBe(1);
    expect(notRecursive.stderr).toMatch(/--recursive/);
    expect(live(FOLDER)).toHaveLength(5);

    const bad = await cli(['assets', 'rm', 'users/me/x', '--yes', '--emulator', emu.url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);

    const one = await cli(['assets', 'rm', listed.assets[0]!.name, '--yes', '--emulator', emu.url]);
    expect(one.code, one.stderr).toBe(0);
    expect(live(FOLDER)).toHaveLength(4);
    const all = await cli(['assets', 'rm', FOLDER, '--recursive', '--yes', '--emulator', emu.url]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/deleted 4 assets/);
    expect(live(FOLDER)).toHaveLength(0);
    expect(live('projects/tessera-test/assets/cli')).toHaveLength(1); // the parent folder stays
  });

  it('merge refuses a Drive job with one clear line', async () => {
    const job = rectangleJob('drivejob', 1, 1);
    const r = await cli(['assets', 'merge', job.file, '--emulator', emu.url]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not an asset job/);
  });
});
