export * from './grid';
export * from './tile-id';
export { TileList, makeTile } from './tile-list';
export { writeTilesGeoJson, tileOutline } from './geojson-out';
export { splitTile, splitDepthOf } from './split';
