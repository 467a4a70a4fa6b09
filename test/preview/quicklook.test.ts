import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { writeGeoTiff } from '../../main/emulator/geotiff/writer';
import { PreviewMaker, previewPath, renderQuicklook } from '../../main/core/preview';

const CRS = 'EPSG:32632';
/** 600 × 400 px of 10 m at (500000, 5400000). */
const GRID = { crsTransform: [10, 0, 500_000, 0, -10, 5_400_000] as [number, number, number, number, number, number], dimensions: [600, 400] as [number, number] };

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'tessera-quicklook-'));
}

/** Value rises west → east (band 0), south → north (band 1), constant 50 (band 2); the western sixth is nodata. */
async function tiff(path: string, bands: number, opts: { width?: number; height?: number; col0?: number; row0?: number; noData?: number } = {}): Promise<void> {
  const [, , x0, , , y0] = GRID.crsTransform;
  await writeGeoTiff(
    path,
    {
      width: GRID.dimensions[0],
      height: GRID.dimensions[1],
      bands: Array.from({ length: bands }, (_, k) => ({ name: `b${k}`, dataType: 'UInt16' as const })),
      crs: CRS,
      crsTransform: GRID.crsTransform,
      noData: opts.noData ?? 65535,
      ...(opts.width ? { window: { col0: opts.col0 ?? 0, row0: opts.row0 ?? 0, width: opts.width, height: opts.height! } } : {}),
    },
    (band, x, y) => {
      const col = (x - x0) / 10;
      const row = (y0 - y) / 10;
      if (col < 100) return 65535;
      return band === 0 ? 1000 + col * 10 : band === 1 ? 5000 - row * 10 : 50;
    },
  );
}

const px = (img: { width: number; data: ArrayLike<number> }, x: number, y: number) => {
  const i = (y * img.width + x) * 4;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!, img.data[i + 3]!];
};

describe('quicklooks', () => {
  it('one band: a grey PNG at most 256 px, stretched 2–98 %, nodata transparent', async () => {
    const d = dir();
    await tiff(join(d, 'a.tif'), 1);
    const look = await renderQuicklook([join(d, 'a.tif')], GRID);
    const png = decode(look.png);
    expect([png.width, png.height]).toEqual([256, 171]);
    expect(png.channels).toBe(4);
    // West of column 100 (x < 43 at this scale): transparent.
    expect(px(png, 10, 80)[3]).toBe(0);
    // Grey: r = g = b, rising to the east, clamped at both ends by the stretch.
    const [r1, g1, b1, a1] = px(png, 60, 80);
    expect([g1, b1, a1]).toEqual([r1, r1, 255]);
    expect(px(png, 45, 80)[0]).toBe(0);
    expect(px(png, 255, 80)[0]).toBe(255);
    expect(px(png, 150, 80)[0]).toBeGreaterThan(px(png, 100, 80)[0]!);
    // The stretch is the 2nd–98th percentile of the valid pixels (columns 100–599: 2000..6990), as sampled
    // at the quicklook's scale (a column every 2.3 px: within 3 columns).
    expect(Math.abs(look.stretch.bands[0]!.min - (1000 + (100 + 0.02 * 499) * 10))).toBeLessThan(30);
    expect(Math.abs(look.stretch.bands[0]!.max - (1000 + (100 + 0.98 * 499) * 10))).toBeLessThan(30);
  });

  it('three bands: RGB from the first three, each with its own stretch', async () => {
    const d = dir();
    await tiff(join(d, 'rgb.tif'), 3);
    const png = decode((await renderQuicklook([join(d, 'rgb.tif')], GRID)).png);
    const north = px(png, 200, 5);
    const south = px(png, 200, 165);
    expect(north[1]).toBeGreaterThan(south[1]!); // green rises to the north
    expect(north[0]).toBe(south[0]); // red only changes west → east
    expect(north[3]).toBe(255);
    expect(px(png, 5, 5)[3]).toBe(0);
  });

  it('a unit split into parts is assembled where each part lies', async () => {
    const d = dir();
    await tiff(join(d, 'p0.tif'), 1, { width: 600, height: 200, row0: 0 });
    await tiff(join(d, 'p1.tif'), 1, { width: 600, height: 200, row0: 200 });
    const whole = decode((await renderQuicklook([join(d, 'p0.tif'), join(d, 'p1.tif')], GRID)).png);
    const top = decode((await renderQuicklook([join(d, 'p0.tif')], GRID)).png);
    expect(px(whole, 200, 150)[3]).toBe(255);
    expect(px(top, 200, 150)[3]).toBe(0); // the southern half is missing without its part
  });

  it('the maker caches PNGs beside the journal, keeps the first unit’s stretch for the job, and never leaves its folder', async () => {
    const state = dir();
    const out = dir();
    await tiff(join(out, 'first.tif'), 1);
    // A second unit with brighter values: drawn with the first unit's stretch, so it saturates.
    await writeGeoTiff(join(out, 'bright.tif'), { width: 600, height: 400, bands: [{ name: 'b0', dataType: 'UInt16' }], crs: CRS, crsTransform: GRID.crsTransform, noData: 65535 }, () => 60_000);
    const ready: string[] = [];
    const maker = new PreviewMaker(state, { ready: (u) => ready.push(u) });
    maker.enqueue({ unit: '2021-01@x0_y0', files: [join(out, 'first.tif')], grid: GRID });
    maker.enqueue({ unit: '2021-02@x0_y0', files: [join(out, 'bright.tif')], grid: GRID });
    maker.enqueue({ unit: '../../etc@x', files: [join(out, 'first.tif')], grid: GRID });
    await maker.idle();
    expect(ready).toEqual(['2021-01@x0_y0', '2021-02@x0_y0']);
    expect(existsSync(join(state, 'previews', '2021-01', 'x0_y0.png'))).toBe(true);
    const stretch = JSON.parse(readFileSync(join(state, 'previews', 'stretch.json'), 'utf8')) as { stretches: Record<string, { bands: { max: number }[] }> };
    expect(Object.values(stretch.stretches)[0]!.bands[0]!.max).toBeLessThan(7000);
    const bright = decode((await maker.read('2021-02@x0_y0'))!);
    expect(px(bright, 128, 80)[0]).toBe(255);
    // A new maker (a restarted host) reads the kept stretch rather than computing one from its first unit.
    const again = new PreviewMaker(state);
    again.enqueue({ unit: 'x9_y9', files: [join(out, 'bright.tif')], grid: GRID });
    await again.idle();
    expect(px(decode((await again.read('x9_y9'))!), 128, 80)[0]).toBe(255);
    for (const bad of ['../x', 'a/b', '..@x', '2021@../../x', '', 'x'.repeat(200)]) {
      expect(previewPath(join(state, 'previews'), bad)).toBeUndefined();
      expect(await maker.read(bad)).toBeNull();
    }
  });

  it('a unit that cannot be drawn is reported and the queue goes on', async () => {
    const state = dir();
    const out = dir();
    await tiff(join(out, 'ok.tif'), 1);
    const warnings: string[] = [];
    const maker = new PreviewMaker(state, { warn: (m) => warnings.push(m) });
    maker.enqueue({ unit: 'x0_y0', files: [join(out, 'missing.tif')] });
    maker.enqueue({ unit: 'x1_y0', files: [join(out, 'ok.tif')], grid: GRID });
    await maker.idle();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^no quicklook for x0_y0: /);
    expect(await maker.read('x1_y0')).not.toBeNull();
  });
});
