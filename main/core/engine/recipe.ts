import type { EeModule } from '../google/earthengine';
import { DATA_TYPES, type DataType } from '../grid';

/**
 * The built-in image used until recipes land: two constant bands. It keeps the whole pipeline honest
 * (real expressions built by the real client, real GeoTIFFs) without needing any collection.
 */
export function builtInImage(ee: EeModule, dataType: DataType = 'Float32'): unknown {
  const image = (ee.Image.constant([1, 2]) as { rename(names: string[]): Record<string, () => unknown> }).rename(['a', 'b']);
  const cast: Record<DataType, string> = {
    Int8: 'toInt8', UInt8: 'toUint8', Int16: 'toInt16', UInt16: 'toUint16', Int32: 'toInt32', UInt32: 'toUint32', Float32: 'toFloat', Float64: 'toDouble',
  };
  return image[cast[dataType]]!();
}

/** Uncompressed bytes per pixel of the built-in image (two bands). */
export function builtInBytesPerPixel(dataType: DataType = 'Float32'): number {
  return 2 * DATA_TYPES[dataType];
}
