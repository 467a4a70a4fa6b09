/** Tile ids of docs/grid.md#tile-ids: `x{i}_y{j}`, negative numbers written with `m` (i = 12, j = −3 → `x12_ym3`). */
export function tileId(i: number, j: number): string {
  return `x${signed(i)}_y${signed(j)}`;
}

const TILE_ID = /^x(m?\d+)_y(m?\d+)$/;

export function parseTileId(id: string): { i: number; j: number } | undefined {
  const m = TILE_ID.exec(id);
  if (!m) return undefined;
  return { i: unsigned(m[1]!), j: unsigned(m[2]!) };
}

function signed(n: number): string {
  return n < 0 ? `m${-n}` : String(n);
}

function unsigned(s: string): number {
  return s.startsWith('m') ? -Number(s.slice(1)) : Number(s);
}
