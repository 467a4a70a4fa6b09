export * from './grid';
export * from './tile-id';
export { writeTilesGeoJson, tileOutline } from './geojson-out';
export { splitTile, splitDepthOf } from './split';
