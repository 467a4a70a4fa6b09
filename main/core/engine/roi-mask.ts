import polygonClipping from 'polygon-clipping';
import { multiPolygonArea, type MultiPolygon } from '../geo/geometry';
import type { EeModule } from '../google/earthengine';
import type { TileRecord } from '../job/state';

type TileGeometry = Pick<TileRecord, 'crsTransform' | 'dimensions'>;

/**
 * `export.maskToRoi` (docs/everyday.md#results): the exported image is clipped to the ROI, so pixels outside it
 * are masked and Earth Engine writes them as `export.noData`. Only the part of the ROI inside the tile
 * is sent (a few vertices, not the whole ROI per tile), and a tile wholly inside the ROI gets no clip.
 */
export function roiPartInTile(roi: MultiPolygon, tile: TileGeometry): MultiPolygon | undefined {
  const [s, , x0, , sy, y1] = tile.crsTransform;
  const [w, h] = tile.dimensions;
  const x1 = x0 + w * s;
  const y0 = y1 + h * sy;
  const rect: MultiPolygon = [[[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]];
  const part = polygonClipping.intersection(rect as never, roi as never) as MultiPolygon;
  // Inside the ROI as a whole: no clip needed (a relative tolerance for reprojected edges).
  if (Math.abs(multiPolygonArea(part) - multiPolygonArea(rect)) <= 1e-9 * multiPolygonArea(rect)) return undefined;
  return part;
}

/** The image made by `make`, clipped to `part` (planar coordinates in the tile's CRS). */
export function clippedImage(make: (ee: EeModule) => unknown, part: MultiPolygon, crs: string): (ee: EeModule) => unknown {
  return (ee) => {
    const e = ee as unknown as { Image(i: unknown): { clip(g: unknown): unknown }; Geometry: { MultiPolygon(c: unknown, proj: string, geodesic: boolean): unknown } };
    return e.Image(make(ee)).clip(e.Geometry.MultiPolygon(part, crs, false));
  };
}
