import { mkdir, statfs, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors';

/**
 * Kernel filesystems that look like folders but hold no files: writing there fails in odd ways, and
 * Node's recursive mkdir under /proc loops for ever (mkdir answers ENOENT, the parent "exists", and it
 * tries again), in a thread no signal reaches. Magic numbers from linux/magic.h.
 */
const VIRTUAL_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x6e736673, 'nsfs'],
  [0x42494e4d, 'binfmt_misc'],
  [0x67596969, 'rpc_pipefs'],
  [0x19800202, 'mqueue'],
  [0xf97cff8c, 'selinuxfs'],
  [0x73727279, 'efivarfs'],
  [0x50495045, 'pipefs'],
]);

/**
 * Creates the output folder (and its missing parents) one level at a time, after checking that its
 * nearest existing ancestor is a folder on a real filesystem. Bounded: at most one mkdir per path
 * component, so it ends even where recursive mkdir would not.
 */
export async function prepareOutputFolder(path: string): Promise<void> {
  const target = resolve(path);
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    try {
      const s = await stat(existing);
      if (!s.isDirectory()) throw new UserError(`the output folder ${target} cannot be made: ${existing} is a file, not a folder`);
      break;
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw e;
      const parent = dirname(existing);
      if (parent === existing) break;
      missing.push(existing);
      existing = parent;
    }
  }
  const fs = await statfs(existing).catch(() => undefined);
  const kind = fs ? VIRTUAL_FILESYSTEMS.get(fs.type) : undefined;
  if (kind) throw new UserError(`the output folder ${target} is under ${existing}, a ${kind} filesystem of the kernel: not a place for files; choose a folder on a disk`);
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
