/**
 * Cloud Storage pieces without a network (docs/cloud-storage.md): the job key, object verification by
 * MD5 or CRC32C with ranged resumes, and where an operation's objects are.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../main/core/job/job-file';
import { UserError } from '../../main/core/errors';
import { crc32cBase64, downloadObject } from '../../main/core/gcs/download';
import { asFolderFiles, operationFolder } from '../../main/core/gcs/location';
import type { GcsObject } from '../../main/core/gcs/port';

const base = { name: 'j', roi: 'a.geojson', grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 100 }, output: 'out' };

describe('destination { type: "gcs" }', () => {
  it('reads bucket and prefix, trimming slashes', () => {
    const job = parseJob({ ...base, destination: { type: 'gcs', bucket: 'my-bucket', prefix: '/tessera/bavaria/' } }, '/tmp/job.json');
    expect(job.gcs).toEqual({ bucket: 'my-bucket', prefix: 'tessera/bavaria' });
  });

  it.each([
    [{ type: 'gcs', prefix: 'p' }, /"destination.bucket" is missing/],
    [{ type: 'gcs', bucket: 'My_Bucket!', prefix: 'p' }, /not a Cloud Storage bucket name/],
    [{ type: 'gcs', bucket: 'b-1', prefix: 'a/../b' }, /"destination.prefix"/],
    [{ type: 'gcs', bucket: 'b-1', folder: 'x' }, /"bucket" and "prefix", not "folder"/],
    [{ type: 'drive', folder: 'f', bucket: 'b-1' }, /belong to Cloud Storage jobs/],
  ])('refuses %j with one line', (destination, message) => {
    expect(() => parseJob({ ...base, destination }, '/tmp/job.json')).toThrow(message);
  });

  it('refuses cleanup "trash", which Cloud Storage does not have', () => {
    expect(() => parseJob({ ...base, cleanup: 'trash', destination: { type: 'gcs', bucket: 'b-1' } }, '/tmp/job.json')).toThrow(UserError);
  });
});

function objectOf(bytes: Buffer, composite = false): GcsObject {
  return {
    bucket: 'b', name: 'p/j_x1_y1.tif', size: bytes.length, generation: '1',
    ...(composite ? {} : { md5Hash: createHash('md5').update(bytes).digest('base64') }),
    crc32c: crc32cBase64(crc32c(bytes)),
  };
}

describe('downloadObject', () => {
  const bytes = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) % 251));

  it('resumes a broken download with a ranged request and verifies a composite object by CRC32C alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcs-dl-'));
    const path = join(dir, 'j_x1_y1.tif');
    const starts: number[] = [];
    let first = true;
    const fetch = async (start: number) => {
      starts.push(start);
      if (first) {
        first = false;
        // The connection breaks after 20 000 bytes.
        return Readable.from((async function* () {
          yield bytes.subarray(0, 20_000);
          throw new Error('ECONNRESET');
        })());
      }
      return Readable.from([bytes.subarray(start)]);
    };
    await expect(downloadObject(objectOf(bytes, true), path, fetch)).rejects.toThrow('ECONNRESET');
    expect(existsSync(`${path}.part`)).toBe(true);
    await downloadObject(objectOf(bytes, true), path, fetch);
    expect(starts).toEqual([0, 20_000]);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(existsSync(`${path}.part`)).toBe(false);
  });

  it('a body that ends short keeps the part for a resume and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcs-dl-'));
    const path = join(dir, 'j_x1_y1.tif');
    await expect(downloadObject(objectOf(bytes), path, async () => Readable.from([bytes.subarray(0, 100)]))).rejects.toThrow(/ended at 100 of 50000 bytes/);
    expect(readFileSync(`${path}.part`).length).toBe(100);
    expect(existsSync(path)).toBe(false);
  });

  it('wrong bytes with the right length are refused by the CRC32C and never renamed into place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcs-dl-'));
    const path = join(dir, 'j_x1_y1.tif');
    const wrong = Buffer.from(bytes);
    wrong[123] = (wrong[123]! + 1) % 256;
    await expect(downloadObject(objectOf(bytes, true), path, async () => Readable.from([wrong]))).rejects.toThrow(/CRC32C .* does not match/);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.part`)).toBe(false);
  });

  it('a file already in place that matches counts as done without a request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcs-dl-'));
    const path = join(dir, 'j_x1_y1.tif');
    writeFileSync(path, bytes);
    expect(await downloadObject(objectOf(bytes), path, async () => { throw new Error('no request expected'); })).toBe(0);
  });
});

describe('where an operation\'s objects are', () => {
  it('reads the folder from destinationUris and judges only objects directly in it', () => {
    const at = operationFolder(['https://console.developers.google.com/storage/browser/b/runs/j/'])!;
    expect(at).toEqual({ bucket: 'b', folder: 'runs/j/' });
    const files = asFolderFiles([
      { bucket: 'b', name: 'runs/j/j_x1_y1.tif', size: 1, generation: '5', md5Hash: 'AAAA', timeCreated: '2026-01-01T00:00:00Z' },
      { bucket: 'b', name: 'runs/j/deeper/j_x1_y1.tif', size: 1, generation: '6', md5Hash: 'BBBB' },
      { bucket: 'b', name: 'runs/j/j_x1_y2.tif', size: 1, generation: '7', crc32c: 'CCCCCC==' },
    ], at);
    expect(files).toEqual([
      { id: 'gs://b/runs/j/j_x1_y1.tif#5', name: 'j_x1_y1.tif', size: 1, md5: 'AAAA', createdTime: '2026-01-01T00:00:00Z' },
      { id: 'gs://b/runs/j/j_x1_y2.tif#7', name: 'j_x1_y2.tif', size: 1, md5: 'crc32c:CCCCCC==' },
    ]);
  });
});
