import { open } from 'node:fs/promises';

/** fsyncs a folder so a rename inside it survives a power cut; a no-op where the OS refuses. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // not supported on every file system; the rename itself is still atomic
  } finally {
    await fh.close();
  }
}
