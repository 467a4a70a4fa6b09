import { describe, expect, it } from 'vitest';
import { EarlyFlush } from '../../main/core/sync/early-flush';

/** A file stream's two fields the flusher reads. */
const stream = (fd: number | null, destroyed = false) => ({ fd, destroyed });

describe('flushing a download to disk while it arrives', () => {
  it('starts a flush every N bytes written, never two at once, and waits for the one under way', async () => {
    const calls: number[] = [];
    const done: ((e: NodeJS.ErrnoException | null) => void)[] = [];
    const f = new EarlyFlush(stream(7), 1000, (fd, cb) => {
      calls.push(fd);
      done.push(cb);
    });
    f.wrote(600);
    expect(calls).toHaveLength(0); // not yet 1000 bytes
    f.wrote(600);
    expect(calls).toEqual([7]);
    f.wrote(5000); // the first is still under way: no second one
    expect(calls).toHaveLength(1);
    let settled = false;
    const wait = f.settled().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    done[0]!(null);
    await wait;
    f.wrote(1000);
    expect(calls).toHaveLength(2);
    done[1]!(null);
    await f.settled();
    expect(() => f.throwIfFailed()).not.toThrow();
  });

  it('a failed flush fails the download (a later fsync may not report that lost write again)', async () => {
    const f = new EarlyFlush(stream(3), 10, (_fd, cb) => cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
    f.wrote(10);
    await f.settled();
    expect(() => f.throwIfFailed()).toThrow(/EIO/);
  });

  it('never flushes a stream that is not open yet or already closed', () => {
    let calls = 0;
    const count = () => void calls++;
    new EarlyFlush(stream(null), 1, count).wrote(100);
    new EarlyFlush(stream(5, true), 1, count).wrote(100);
    expect(calls).toBe(0);
  });
});
