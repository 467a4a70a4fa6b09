import type { AssetQuota, EeAsset, ImageExport, Operation, TableExport } from '../google/earthengine';

/**
 * What the engine needs from Earth Engine (docs/ARCHITECTURE.md, "Ports"). The real adapter is
 * `EarthEngine` in google/earthengine.ts over the unmodified client; tests pass fakes.
 */
export interface EarthEnginePort {
  exportImage(x: ImageExport): Promise<string>;
  /** Table exports (point recipes, recipes returning a FeatureCollection). */
  exportTable?(x: TableExport): Promise<string>;
  getOperations(names: string[]): Promise<Map<string, Operation>>;
  /** The project's operations, every page; with `limit`, paging stops once that many are read. */
  listOperations(limit?: number): Promise<Operation[]>;
  cancelOperations(names: string[]): Promise<void>;
  /** Asset jobs: an asset or null, and creating the job's folder or image collection. */
  getAsset?(name: string): Promise<EeAsset | null>;
  createAsset?(name: string, type: 'FOLDER' | 'IMAGE_COLLECTION'): Promise<void>;
  /** Asset jobs: the project's asset quota (the asset-count gate). */
  assetQuota?(name: string): Promise<AssetQuota>;
}
