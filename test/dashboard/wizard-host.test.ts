// The wizard's host side without a browser: uploaded file names, the uploads folder, the size limit.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobHost, uploadName } from '../../main/core/engine/host';
import { UPLOAD_MAX_BYTES } from '../../shared/dashboard';

const host = (uploadsDir?: string) =>
  new JobHost({
    uploadsDir,
    connect: () => Promise.reject(new Error('no Earth Engine here')),
  });

async function* chunks(...parts: (string | Buffer)[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

describe('uploads for the job wizard (JobHost.saveUpload)', () => {
  it('reduces a name to its last part, safe characters and a wizard extension', () => {
    expect(uploadName('area.gpkg')).toBe('area.gpkg');
    expect(uploadName('../../etc/evil.js')).toBe('evil.js');
    expect(uploadName('C:\\Users\\ada\\My Area (v2).GeoJSON')).toBe('My_Area_v2_.geojson');
    expect(uploadName('..\\.hidden.json')).toBe('hidden.json');
    expect(uploadName(`${'x'.repeat(300)}.gpkg`)).toHaveLength(100);
    expect(uploadName('_.gpkg')).toBe('upload.gpkg');
    for (const bad of ['a.exe', 'noext', '.gpkg', 'x.gpkg/', 'a.js.sh']) expect(() => uploadName(bad), bad).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('keeps the bytes under <uploads>/<sha-256 prefix>/<name>, never replacing another upload', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-uploads-'));
    const h = host(dir);
    const a = await h.saveUpload('../area.geojson', chunks('{"type":', '"FeatureCollection","features":[]}'));
    expect(a).toMatchObject({ ok: true, name: 'area.geojson', size: Buffer.byteLength('{"type":"FeatureCollection","features":[]}') });
    expect(a.path.startsWith(`${dir}/`)).toBe(true);
    expect(readFileSync(a.path, 'utf8')).toBe('{"type":"FeatureCollection","features":[]}');
    // Same name, other bytes: another folder; same bytes again: the same file.
    const b = await h.saveUpload('area.geojson', chunks('{}'));
    expect(b.path).not.toBe(a.path);
    expect(readFileSync(a.path, 'utf8')).toContain('FeatureCollection');
    expect((await h.saveUpload('area.geojson', chunks('{}'))).path).toBe(b.path);
    expect(readdirSync(dir).filter((n) => n.startsWith('.incoming'))).toEqual([]);
  });

  it('refuses more than the limit while streaming (413) and leaves nothing behind; no folder, no uploads (404)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-uploads-'));
    const mb = Buffer.alloc(1024 * 1024, 1);
    async function* big(): AsyncIterable<Uint8Array> {
      for (let k = 0; k <= UPLOAD_MAX_BYTES / mb.length; k++) yield mb;
    }
    await expect(host(dir).saveUpload('big.gpkg', big())).rejects.toMatchObject({ status: 413 });
    expect(readdirSync(dir)).toEqual([]);
    await expect(host(undefined).saveUpload('a.gpkg', chunks('x'))).rejects.toMatchObject({ status: 404 });
  });
});
