import { inclusiveEnd, STAC_VERSION, PROJECTION_EXTENSION, type StacLink } from './item';

export interface CollectionInput {
  id: string;
  description: string;
  /** Union of the items' bboxes (EPSG:4326); undefined while no item exists. */
  bbox: [number, number, number, number] | undefined;
  /** The job's first period start and last period end (`YYYY-MM-DD`, end exclusive). */
  start: string;
  end: string;
  /** Item files relative to the collection file, in a stable order. */
  items: readonly string[];
}

/** The job's STAC Collection (docs/stac.md): its extent and a link to every Item written so far. */
export function stacCollection(c: CollectionInput): Record<string, unknown> {
  const links: StacLink[] = [
    { rel: 'root', href: './collection.json', type: 'application/json' },
    { rel: 'self', href: './collection.json', type: 'application/json' },
    ...c.items.map((href) => ({ rel: 'item', href, type: 'application/geo+json' })),
  ];
  return {
    type: 'Collection',
    stac_version: STAC_VERSION,
    stac_extensions: [PROJECTION_EXTENSION],
    id: c.id,
    description: c.description,
    license: 'other',
    extent: {
      spatial: { bbox: [c.bbox ?? [-180, -90, 180, 90]] },
      temporal: { interval: [[`${c.start}T00:00:00Z`, inclusiveEnd(c.end)]] },
    },
    links,
  };
}
