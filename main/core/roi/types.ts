import type { Crs } from '../geo/crs';
import type { MultiPolygon } from '../geo/geometry';

/** What a reader hands back: polygon features of one layer, in the layer's own CRS. */
export interface RoiLayer {
  /** The layer's name (GeoPackage table, or the file name for GeoJSON). */
  readonly name: string;
  readonly crs: Crs;
  /** One MultiPolygon per polygon feature, coordinates as stored. */
  readonly features: MultiPolygon[];
}

export interface LayerInfo {
  readonly name: string;
  /** Geometry type as declared (POLYGON, MULTIPOLYGON, POINT, …). */
  readonly geometryType: string;
  readonly featureCount: number;
}
