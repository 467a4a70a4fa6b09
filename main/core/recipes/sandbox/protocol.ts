import type { PointRow } from '../presets';

/**
 * Messages between Tessera and a recipe's child process (docs/security.md, "Recipes"). The child holds
 * no credentials: it asks the parent for the one thing it needs from Earth Engine (the list of algorithms
 * its client loads at start), and answers each build with the serialized expression only.
 */

/** Parent → child: build one tile. The recipe's source travels here: the child may not read files. */
export interface BuildRequest {
  type: 'build';
  id: number;
  file: string;
  source: string;
  baseUrl: string;
  project: string;
  tile: { id: string; crs: string; crsTransform: number[]; dimensions: [number, number] };
  points?: readonly PointRow[];
  /** A job with periods: the unit's period (ISO dates, `end` exclusive; docs/periods.md#recipes). */
  period?: { id: string; start: string; end: string };
}

/** Parent → child: the algorithm list the child's client asked for (raw REST answer), or why not. */
export interface AlgorithmsAnswer {
  type: 'algorithms';
  ok: boolean;
  body: string;
}

export type ToChild = BuildRequest | AlgorithmsAnswer;

/** Child → parent. */
export type FromChild =
  | { type: 'algorithms'; url: string }
  /** The client is ready and the recipe is being called: its time limit starts. */
  | { type: 'running'; id: number }
  | { type: 'built'; id: number; kind: 'image' | 'table'; expression: string; logs: string[] }
  | { type: 'failed'; id: number; message: string };

/** What a recipe may not do: compute. Shown when it calls getInfo, evaluate or any other server call. */
export const NO_COMPUTE = 'recipes build expressions and do not compute: getInfo, evaluate and other calls to Earth Engine are not available in a recipe; return the ee.Image or ee.FeatureCollection and Tessera exports it';
