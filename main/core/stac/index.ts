export { stacItem, inclusiveEnd, STAC_VERSION, PROJECTION_EXTENSION, type StacItem, type ItemInput } from './item';
export { stacCollection, type CollectionInput } from './collection';
export { writeStac, newStacState, type StacState } from './writer';
