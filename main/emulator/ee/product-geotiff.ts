import { syntheticValue, writeGeoTiff, type GeoTiffSpec, type WrittenFile } from '../geotiff/writer';
import type { ImageProduct } from './product';

/**
 * Writes an image product's pixels as a GeoTIFF — the whole grid, or one window of it: the one writer of
 * exports and computePixels answers. Values follow world coordinates, so neighbouring tiles and the parts
 * of a split output continue each other, and no two tiles have the same bytes.
 */
export function writeProductGeoTiff(path: string, product: ImageProduct, options: Pick<GeoTiffSpec, 'window' | 'noData'> = {}): Promise<WrittenFile> {
  return writeGeoTiff(
    path,
    {
      width: product.grid.width,
      height: product.grid.height,
      bands: product.bands,
      crs: product.grid.crs,
      crsTransform: product.grid.crsTransform,
      ...options,
      ...(product.clips?.length ? { clips: product.clips } : {}),
    },
    (band, x, y) => syntheticValue(band, x, y, product.bands[band]?.dataType ?? 'Float32'),
  );
}
