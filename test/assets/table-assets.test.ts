/**
 * A table (points) job with an asset destination: one TABLE asset per tile holding its points, in a
 * plain folder (tables cannot live in image collections), tiles without points skipped.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobHost } from '../../main/core/engine/host';
import { emulatorSession } from '../../main/core/google/session';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { rectangleJob } from '../helpers/job';
import { runJob } from '../helpers/emulator';
import { FULL_CATALOG } from '../recipes/helpers';

let emu: EmulatorHandle;
const TILE = 64;
const SIZE = TILE * 10;
const X0 = Math.round(4_000_000 / SIZE) * SIZE;
const Y0 = Math.round(3_000_000 / SIZE) * SIZE;

beforeAll(async () => {
  emu = await startEmulator({ catalogPath: FULL_CATALOG, timeScale: 1000, taskBaseSeconds: 20, slots: 4 });
});
afterAll(async () => {
  await emu?.stop();
});

/** Four points in three of the 3 × 2 tiles (EPSG:3035), written beside a probe job of that name. */
function writePoints(name: string): string {
  const probe = rectangleJob(name, 3, 2, {}, TILE);
  const pts: [number, number][] = [[X0 + 100, Y0 + 100], [X0 + 200, Y0 + 150], [X0 + SIZE + 50, Y0 + 50], [X0 + 2 * SIZE + 10, Y0 + SIZE + 20]];
  const path = join(probe.dir, 'points.geojson');
  writeFileSync(path, JSON.stringify({
    type: 'FeatureCollection',
    crs: { type: 'name', properties: { name: 'EPSG:3035' } },
    features: pts.map((c, k) => ({ type: 'Feature', properties: { plot: `P${k}` }, geometry: { type: 'Point', coordinates: c } })),
  }));
  return path;
}

describe('table asset jobs', () => {
  it('exports each tile with points to its own TABLE asset with the right feature count', { timeout: 120_000 }, async () => {
    const folder = 'projects/tessera-test/assets/pts/tables';
    const points = writePoints('ptsa');
    const job = rectangleJob('ptsa', 3, 2, {
      drive: undefined,
      destination: { type: 'asset', folder, merge: false }, // the tiles as they are (merging: merge.test.ts)
      points,
      recipe: { preset: 'points', params: { image: { preset: 'asset', params: { id: 'projects/tessera-test/assets/dem' } } } },
    }, TILE);
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    await emu.sync();
    const s = emu.state();
    expect(s.assets.find((a) => a.name === folder)).toMatchObject({ type: 'FOLDER' });
    const tables = s.assets.filter((a) => a.name.startsWith(`${folder}/`));
    expect(tables.every((a) => a.type === 'TABLE' && a.deletedAt === null)).toBe(true);
    expect(tables).toHaveLength(3);
    expect(tables.reduce((n, a) => n + (a.featureCount ?? 0), 0)).toBe(4);
    expect(s.files).toHaveLength(0);
  });

  it('served (tessera serve, the desktop app): merges the tiles into one asset when the run ends and cleans up', { timeout: 120_000 }, async () => {
    const folder = 'projects/tessera-test/assets/pts/served';
    const job = rectangleJob('ptsh', 3, 2, {
      drive: undefined,
      destination: { type: 'asset', folder },
      points: writePoints('ptsh'),
      recipe: { preset: 'points', params: { image: { preset: 'asset', params: { id: 'projects/tessera-test/assets/dem' } } } },
    }, TILE);
    const host = new JobHost({ connect: async () => ({ session: await emulatorSession(emu.url), timeScale: 1000 }), progressIntervalMs: 50, writeLog: false });
    const log: string[] = [];
    host.subscribe((m) => {
      if (m.kind === 'event' && m.event.type === 'log') log.push(m.event.message);
    });
    await host.add(job.file);
    host.start('ptsh');
    await host.settled();
    const summary = host.summary('ptsh');
    await host.stop();
    expect(summary.outcome, log.join('\n')).toMatchObject({ exitCode: 0 });
    await emu.sync();
    const live = emu.state().assets.filter((a) => a.name.startsWith(`${folder}/`) && a.deletedAt === null);
    // One merged table with every point; the three tile tables are gone.
    expect(live.map((a) => [a.name, a.type, a.featureCount])).toEqual([[`${folder}/ptsh`, 'TABLE', 4]]);
    expect(log.some((l) => /^finished: every tile done; assets in .*; merged: /.test(l))).toBe(true);
  });
});
