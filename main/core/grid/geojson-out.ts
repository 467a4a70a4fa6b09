import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { commitFile, tempPathFor } from '../../common/atomic-write';
import { transformer, WGS84, type Crs } from '../geo/crs';
import { tileBounds, type Tile } from './grid';

/** Points per tile side in the GeoJSON: projected tile edges are curves in EPSG:4326. */
const SIDE_SEGMENTS = 8;

/** A tile as a GeoJSON Polygon ring in EPSG:4326, its edges densified. */
export function tileOutline(tile: Tile, fwd: (x: number, y: number) => [number, number]): [number, number][] {
  const [x0, y0, x1, y1] = tileBounds(tile);
  const corners: [number, number][] = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  const ring: [number, number][] = [];
  for (let c = 0; c < 4; c++) {
    const [ax, ay] = corners[c]!;
    const [bx, by] = corners[(c + 1) % 4]!;
    for (let k = 0; k < SIDE_SEGMENTS; k++) {
      const f = k / SIDE_SEGMENTS;
      const [lon, lat] = fwd(ax + (bx - ax) * f, ay + (by - ay) * f);
      ring.push([round9(lon), round9(lat)]);
    }
  }
  ring.push(ring[0]!);
  return ring;
}

/**
 * Writes the tiles as a GeoJSON FeatureCollection (EPSG:4326) with properties id, crs, crsTransform and
 * dimensions. Streams to a temporary file beside the target and renames it, so a failure leaves nothing.
 */
export async function writeTilesGeoJson(path: string, tiles: Iterable<Tile>, crs: Crs): Promise<void> {
  const tmp = tempPathFor(path);
  const out = createWriteStream(tmp, { flags: 'wx' });
  const fwd = transformer(crs, WGS84);
  try {
    await write(out, '{"type":"FeatureCollection","features":[\n');
    let k = 0;
    for (const t of tiles) {
      const feature = {
        type: 'Feature',
        properties: { id: t.id, crs: t.crs, crsTransform: t.crsTransform, dimensions: t.dimensions },
        geometry: { type: 'Polygon', coordinates: [tileOutline(t, fwd)] },
      };
      await write(out, (k++ ? ',\n' : '') + JSON.stringify(feature));
    }
    await write(out, '\n]}\n');
    out.end();
    await once(out, 'close');
    await commitFile(tmp, path);
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}

async function write(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

function round9(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}
