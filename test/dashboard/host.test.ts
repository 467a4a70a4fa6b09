import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostError, JobHost, outline } from '../../main/core/engine/host';
import { emulatorSession } from '../../main/core/google/session';
import { startEmulator } from '../../main/emulator';
import { DashboardSnapshotSchema, StreamMessageSchema, type StreamMessage } from '../../shared/dashboard';
import { rectangleJob } from '../helpers/job';
import { useEmulator } from '../helpers/emulator';

// A 128 × 128 tile (16 384 px) is over the memory limit, its 64 × 64 children are not: every tile splits once.
const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 300, memoryPixels: 10_000 });

function bbox(ring: number[]): [number, number, number, number] {
  const xs = ring.filter((_, k) => k % 2 === 0);
  const ys = ring.filter((_, k) => k % 2 === 1);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

describe('JobHost', () => {
  it('serves a recipe job with its recipe: the exported band, then the mosaic', { timeout: 60_000 }, async () => {
    const own = await startEmulator({ timeScale: 1000, taskBaseSeconds: 300, catalogPath: join(__dirname, '..', 'fixtures', 'google', 'algorithms.json') });
    try {
      const job = rectangleJob('hostrecipe', 2, 1, { recipe: { preset: 'asset', params: { id: 'projects/tessera-test/assets/dem' } } });
      const host = new JobHost({ connect: async () => ({ session: await emulatorSession(own.url), timeScale: 1000 }), progressIntervalMs: 50 });
      await host.add(job.file);
      host.start('hostrecipe');
      await host.settled();
      await host.stop();
      const tifs = readdirSync(job.output).filter((n) => n.endsWith('.tif'));
      expect(tifs).toHaveLength(2);
      const info = JSON.parse(execFileSync('gdalinfo', ['-json', join(job.output, tifs[0]!)], { encoding: 'utf8' })) as { bands: { description: string; type: string }[] };
      expect(info.bands.map((b) => [b.description, b.type])).toEqual([['elevation', 'Int16']]);
      expect(existsSync(join(job.output, 'hostrecipe.vrt'))).toBe(true);
    } finally {
      await own.stop();
    }
  });

  it('runs a job as tessera run would and streams numbered events, planned tiles and split children with outlines', { timeout: 60_000 }, async () => {
    const job = rectangleJob('hosted', 2, 1, { splitDepth: 1 });
    const host = new JobHost({ connect: async () => ({ session: await emulatorSession(emu.url), timeScale: 1000 }), progressIntervalMs: 50 });
    const messages: StreamMessage[] = [];
    host.subscribe((m) => messages.push(structuredClone(m)));
    expect(await host.add(job.file)).toBe('hosted');
    expect(existsSync(join(job.stateDir, 'lock'))).toBe(true);
    const before = DashboardSnapshotSchema.parse(host.snapshot());
    expect(before.jobs[0]!.tiles).toEqual([]); // not planned until it runs
    expect(before.jobs[0]!.roi.length).toBe(1); // but the ROI outline is there
    host.start('hosted');
    host.start('hosted'); // already running: ignored
    await host.settled();
    expect(host.busy()).toBe(false);

    // Every message is valid and numbered without a gap.
    for (const m of messages) StreamMessageSchema.parse(m);
    messages.forEach((m, k) => expect(m.seq).toBe(k + 1));
    expect(host.position()).toBe(messages.length);
    const planned = messages.filter((m): m is Extract<StreamMessage, { kind: 'tiles' }> => m.kind === 'tiles');
    expect(planned.map((m) => m.tiles.length)).toEqual([2, 4, 4]);
    // Children lie inside their parent, in EPSG:4326, near Luxembourg (EPSG:3035 x 4.0e6, y 3.0e6).
    for (const p of planned[0]!.tiles) {
      expect(p.ring.length).toBe(8); // straight edges: the four corners
      const [w, s, e, n] = bbox(p.ring);
      expect(w).toBeGreaterThan(5);
      expect(e).toBeLessThan(6);
      expect(s).toBeGreaterThan(49.5);
      expect(n).toBeLessThan(50.5);
      const children = planned.slice(1).flatMap((m) => m.tiles).filter((c) => c.id.startsWith(`${p.id}_q`));
      expect(children.map((c) => c.id).sort()).toEqual([0, 1, 2, 3].map((q) => `${p.id}_q${q}`));
      for (const c of children) {
        const [cw, cs, ce, cn] = bbox(c.ring);
        expect(cw).toBeGreaterThanOrEqual(w - 1e-6);
        expect(ce).toBeLessThanOrEqual(e + 1e-6);
        expect(cs).toBeGreaterThanOrEqual(s - 1e-6);
        expect(cn).toBeLessThanOrEqual(n + 1e-6);
      }
    }
    const states = messages.flatMap((m) => (m.kind === 'event' && m.event.type === 'tile-state' ? [m.event.state] : []));
    expect(states.filter((s) => s === 'split')).toHaveLength(2);
    expect(messages.some((m) => m.kind === 'event' && m.event.type === 'quota')).toBe(true);
    const last = messages.filter((m) => m.kind === 'event' && m.event.type === 'job-progress').at(-1);
    expect(last?.kind === 'event' && last.event.type === 'job-progress' && last.event.progress.finished).toBe(true);

    const snap = DashboardSnapshotSchema.parse(host.snapshot());
    const view = snap.jobs[0]!;
    expect(view.tiles.filter((t) => t.state === 'split')).toHaveLength(2);
    expect(view.tiles.filter((t) => t.state === 'done')).toHaveLength(8);
    expect(view.running).toBe(false);
    expect(view.outcome).toEqual({ exitCode: 0, message: null });
    expect(view.progress.total).toBe(8);
    expect(view.drive.downloadedBytes).toBeGreaterThan(0);
    expect(view.eecu.usedSeconds).toBeGreaterThan(0);
    expect(view.bounds).not.toBeNull();
    const child = host.tile('hosted', planned[1]!.tiles[0]!.id);
    expect(child.files).toHaveLength(1);
    const file = emu.state().files.find((f) => f.name === child.files[0]!.name)!;
    expect(child.files[0]!.md5).toBe(file.md5Checksum);
    // (A fast task may finish between two polls: `running` is not always seen.)
    expect(child.history.map((h) => h.state).filter((s) => s !== 'running')).toEqual(['pending', 'submitting', 'queued', 'exported', 'downloading', 'verified', 'done']);
    const parent = host.tile('hosted', planned[0]!.tiles[0]!.id);
    expect(parent.error).toContain('User memory limit exceeded.');
    expect(parent.operation).toMatch(/^projects\/.+\/operations\/.+/);

    // Commands are validated; unknown jobs and tiles are 404.
    await expect(host.command({ type: 'explode', job: 'hosted' })).rejects.toMatchObject({ status: 400 });
    await expect(host.command({ type: 'retry', job: 'hosted' })).rejects.toBeInstanceOf(HostError);
    await expect(host.command({ type: 'retry', job: 'nope', tiles: ['x'] })).rejects.toMatchObject({ status: 404 });
    expect(() => host.tile('hosted', 'x9_y9')).toThrow(HostError);
    expect((await host.command({ type: 'status', job: 'hosted' })).progress?.tiles.done).toBe(8);

    await host.stop();
    expect(existsSync(join(job.stateDir, 'lock'))).toBe(false);
    // The job's log is written as tessera run writes it.
    expect(readFileSync(join(job.stateDir, 'log'), 'utf8')).toMatch(/_q0 done/);
  });

  it('refuses a job it cannot lock, naming the holder (exit 3 in the CLI)', { timeout: 30_000 }, async () => {
    const job = rectangleJob('locked', 1, 1);
    const connect = async () => ({ session: await emulatorSession(emu.url), timeScale: 1000 });
    const a = new JobHost({ connect });
    const b = new JobHost({ connect });
    await a.add(job.file);
    await expect(b.add(job.file)).rejects.toMatchObject({ exitCode: 3 });
    await expect(a.add(job.file)).rejects.toThrow(/two jobs are named "locked"/);
    await a.stop();
    await b.stop();
  });

  it('outlines a tile in EPSG:4326, densified only where the projected edge curves', () => {
    // A 100 km tile in EPSG:3035 has straight enough edges; a 10° tile in a polar stereographic one does not.
    const small = outline({ id: 'a', crs: 'EPSG:3035', crsTransform: [1000, 0, 4_000_000, 0, -1000, 3_100_000], dimensions: [100, 100] });
    expect(small.length).toBeGreaterThanOrEqual(8);
    const big = outline({ id: 'b', crs: 'EPSG:3413', crsTransform: [10_000, 0, -1_000_000, 0, -10_000, 0], dimensions: [200, 200] });
    expect(big.length).toBeGreaterThan(8);
    for (let k = 0; k < big.length; k += 2) {
      expect(Math.abs(big[k]!)).toBeLessThanOrEqual(180);
      expect(Math.abs(big[k + 1]!)).toBeLessThanOrEqual(90);
    }
  });
});
