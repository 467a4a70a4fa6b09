/**
 * The job wizard's grid preview, shown on the map while the wizard is open: the outlines (EPSG:4326 flat
 * rings) of the first tiles of the grid being set up. The wizard sets it (debounced by its host calls) and
 * clears it when it closes; TileMap draws it as its own dashed layer above the job's tiles.
 */
export interface GridPreviewOutlines {
  rings: number[][];
  /** Tiles in the whole grid (the rings are at most the first 5,000). */
  tiles: number;
  /** Changes when the ROI or its layer changes: the map then fits the preview into view. */
  key: string;
}

let current: GridPreviewOutlines | null = null;
const listeners = new Set<(p: GridPreviewOutlines | null) => void>();

export const gridPreview = {
  get(): GridPreviewOutlines | null {
    return current;
  },
  set(p: GridPreviewOutlines | null): void {
    if (p === current) return;
    current = p;
    for (const l of listeners) l(p);
  },
  subscribe(listener: (p: GridPreviewOutlines | null) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
