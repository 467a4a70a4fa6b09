// What the host and the emulator keep goes through the one atomic writer (main/common/atomic-write.ts,
// docs/ARCHITECTURE.md, "The durable store"): fsynced before its name appears, never half-written.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as atomic from '../../main/common/atomic-write';
import { WizardServices } from '../../main/core/host/wizard';
import { ServiceAccounts } from '../../main/emulator/auth/service-accounts';

vi.mock('../../main/common/atomic-write', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../main/common/atomic-write')>();
  return { ...real, commitFile: vi.fn(real.commitFile), writeFileAtomic: vi.fn(real.writeFileAtomic), writeFileAtomicSync: vi.fn(real.writeFileAtomicSync) };
});

const scratch = () => mkdtempSync(join(tmpdir(), 'tessera-durable-writes-'));

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

const wizard = (uploadsDir: string, added: string[] = []) =>
  new WizardServices({
    allowCustomRecipes: false,
    uploadsDir,
    connection: () => Promise.reject(new Error('no Earth Engine here')),
    has: () => false,
    add: async (file) => {
      added.push(file);
      return 'made';
    },
    start: () => undefined,
  });

beforeEach(() => {
  vi.mocked(atomic.commitFile).mockClear();
  vi.mocked(atomic.writeFileAtomic).mockClear();
  vi.mocked(atomic.writeFileAtomicSync).mockClear();
});

describe('the atomic writer, exclusive', () => {
  it('creates a file that is not there, and leaves no temporary file', async () => {
    const dir = scratch();
    await atomic.writeFileAtomic(join(dir, 'job.json'), '{"a":1}', { exclusive: true });
    expect(readFileSync(join(dir, 'job.json'), 'utf8')).toBe('{"a":1}');
    expect(readdirSync(dir)).toEqual(['job.json']);
  });

  it('refuses (EEXIST) to replace a file that is there, keeping it as it was', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'job.json'), 'theirs');
    await expect(atomic.writeFileAtomic(join(dir, 'job.json'), 'ours', { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(join(dir, 'job.json'), 'utf8')).toBe('theirs');
    expect(readdirSync(dir)).toEqual(['job.json']);
  });
});

describe('the wizard keeps its files durably', () => {
  it('an upload is fsynced and renamed into place by the atomic writer', async () => {
    const dir = scratch();
    const saved = await wizard(dir).saveUpload('area.geojson', chunks('{"type":', '"FeatureCollection","features":[]}'));
    expect(readFileSync(saved.path, 'utf8')).toBe('{"type":"FeatureCollection","features":[]}');
    expect(atomic.commitFile).toHaveBeenCalledTimes(1);
    expect(vi.mocked(atomic.commitFile).mock.calls[0]![1]).toBe(saved.path);
    // Nothing but the content-addressed folder is left: no temporary file.
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('a new job file is written whole, never over an existing file (409)', async () => {
    const dir = scratch();
    const file = join(dir, 'made.json');
    const job = { name: 'made', roi: { path: 'area.geojson' }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 256 }, drive: { folder: 'made' }, output: 'out' };
    const added: string[] = [];
    await expect(wizard(dir, added).createJob({ file, job, start: false })).resolves.toMatchObject({ ok: true, file });
    expect(added).toEqual([file]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ name: 'made' });
    expect(atomic.writeFileAtomic).toHaveBeenCalledWith(file, expect.any(String), { exclusive: true });
    writeFileSync(file, 'theirs');
    await expect(wizard(dir).createJob({ file, job, start: false })).rejects.toMatchObject({ status: 409 });
    expect(readFileSync(file, 'utf8')).toBe('theirs');
    expect(readdirSync(dir)).toEqual(['made.json']);
  });
});

describe('the emulator keeps its trusted service-account keys durably', () => {
  it('writes its key list through the atomic writer, leaving no temporary file; a restart trusts the key', async () => {
    const dir = scratch();
    const key = await new ServiceAccounts(dir).create({ project: 'tessera-test', tokenUri: 'http://127.0.0.1:1/token' });
    expect(atomic.writeFileAtomicSync).toHaveBeenCalledTimes(1);
    expect(readdirSync(dir)).toEqual(['service-accounts.json']);
    const saved = JSON.parse(readFileSync(join(dir, 'service-accounts.json'), 'utf8')) as { keyId: string }[];
    expect(saved.map((k) => k.keyId)).toEqual([key.private_key_id]);
  });
});
