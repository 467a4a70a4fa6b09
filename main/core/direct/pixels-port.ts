import type { EarthEnginePort } from '../ports/earth-engine';
import { computePixelsVia, type ComputePixels } from './ee-pixels';

export type { ComputePixels, PixelGrid } from './ee-pixels';

/**
 * The computePixels call of an Earth Engine connection: a port that has its own (`computePixels`, test
 * fakes) or the real adapter's connection (`EarthEngine.connection()`, google/earthengine.ts).
 */
export function directPixelsOf(ee: EarthEnginePort): ComputePixels {
  const port = ee as EarthEnginePort & {
    computePixels?: ComputePixels;
    connection?: () => { baseUrl: string; project: string; token: () => Promise<{ token: string }> };
  };
  if (typeof port.computePixels === 'function') return port.computePixels.bind(port);
  if (typeof port.connection === 'function') {
    const c = port.connection();
    return computePixelsVia({ baseUrl: c.baseUrl, project: c.project, token: async () => (await c.token()).token });
  }
  throw new Error('this Earth Engine connection cannot fetch pixels directly (computePixels)');
}
