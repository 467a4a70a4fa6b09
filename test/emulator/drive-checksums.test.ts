/**
 * Drive's content checksums through the unmodified @googleapis/drive client: `sha1Checksum` and
 * `sha256Checksum` are the hex digests of the bytes (as `md5Checksum` is), for files.get and files.list,
 * and follow a content change. Tessera verifies large downloads by the SHA-256 (docs/performance.md).
 */
import type { drive_v3 } from '@googleapis/drive';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { driveClient, signIn } from './google-clients';

let emu: EmulatorHandle;
let drive: drive_v3.Drive;

beforeAll(async () => {
  emu = await startEmulator({ slots: 0 });
  const { client } = await signIn(emu.url);
  drive = driveClient(emu.url, client);
});

afterAll(async () => {
  await emu?.stop();
});

const hex = (algorithm: string, b: Buffer) => createHash(algorithm).update(b).digest('hex');

describe('Drive content checksums', () => {
  it('files.get and files.list give sha1Checksum and sha256Checksum equal to the digests of the bytes, and new ones after files.update with media', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 11);
    const folder = (await drive.files.create({ requestBody: { name: 'sums', mimeType: 'application/vnd.google-apps.folder' }, fields: 'id' })).data.id!;
    // Media uploads take their root per call (the client builds the upload URL from it).
    const created = await drive.files.create(
      { requestBody: { name: 'a.tif', parents: [folder] }, media: { mimeType: 'image/tiff', body: Readable.from([bytes]) }, fields: 'id' },
      { rootUrl: `${emu.url}/` },
    );
    const id = created.data.id!;
    const got = (await drive.files.get({ fileId: id, fields: 'md5Checksum, sha1Checksum, sha256Checksum' })).data;
    expect(got).toEqual({ md5Checksum: hex('md5', bytes), sha1Checksum: hex('sha1', bytes), sha256Checksum: hex('sha256', bytes) });
    const listed = (await drive.files.list({ q: `'${folder}' in parents`, fields: 'files(id, sha256Checksum)' })).data.files;
    expect(listed).toEqual([{ id, sha256Checksum: hex('sha256', bytes) }]);
    // Not selected, not sent (partial response).
    expect((await drive.files.get({ fileId: id, fields: 'id, md5Checksum' })).data).toEqual({ id, md5Checksum: hex('md5', bytes) });

    const other = randomBytes(1000);
    await drive.files.update({ fileId: id, media: { mimeType: 'image/tiff', body: Readable.from([other]) } }, { rootUrl: `${emu.url}/` });
    const after = (await drive.files.get({ fileId: id, fields: 'sha1Checksum, sha256Checksum' })).data;
    expect(after).toEqual({ sha1Checksum: hex('sha1', other), sha256Checksum: hex('sha256', other) });
  });

  it('folders have no checksums', async () => {
    const folder = (await drive.files.create({ requestBody: { name: 'empty', mimeType: 'application/vnd.google-apps.folder' }, fields: 'id' })).data.id!;
    expect((await drive.files.get({ fileId: folder, fields: 'id, md5Checksum, sha256Checksum' })).data).toEqual({ id: folder });
  });
});
