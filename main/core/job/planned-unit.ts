import type { TilePlan, TileRecord } from './state';

type Transform = TileRecord['crsTransform'];
const NO_FILES: readonly TileRecord['files'][number][] = Object.freeze([]);
type Dimensions = TileRecord['dimensions'];

/**
 * Builds the records of freshly planned units (docs/scale.md). A job can plan a million units, so each
 * record is built field by field (an object spread of the plan makes a slow, twice as large object and
 * took most of the planning time) and units that share a grid geometry share its arrays: the periods of
 * one tile have the same transform, and most tiles the same dimensions. Both arrays are read-only in a
 * record (a split makes new records), so sharing them is safe.
 */
export class PlannedUnits {
  private readonly transforms = new Map<string, Transform>();
  private readonly dimensions = new Map<number, Dimensions>();
  private planned: TileRecord['history'] = plannedHistory('');

  record(t: TilePlan, at: string): TileRecord {
    // History lists and file lists are replaced or appended to, never changed in place: units planned at
    // the same time share one frozen history (its one entry), and units without files one frozen empty
    // list. A unit's first change gives it its own history (state.ts, applyEntry).
    if (this.planned[0]!.at !== at) this.planned = plannedHistory(at);
    return {
      id: t.id,
      crs: t.crs,
      crsTransform: this.transform(t.crsTransform),
      dimensions: this.size(t.dimensions),
      state: 'pending',
      attempt: 0,
      files: NO_FILES as TileRecord['files'],
      history: this.planned,
    };
  }

  private transform(x: Transform): Transform {
    const key = `${x[0]},${x[1]},${x[2]},${x[3]},${x[4]},${x[5]}`;
    let shared = this.transforms.get(key);
    if (!shared) this.transforms.set(key, (shared = x));
    return shared;
  }

  private size(d: Dimensions): Dimensions {
    // Dimensions are whole pixel counts well below 2^26, so the pair packs into one exact number.
    const key = d[0] * 2 ** 26 + d[1];
    let shared = this.dimensions.get(key);
    if (!shared) this.dimensions.set(key, (shared = d));
    return shared;
  }
}

/** The one-entry history of units planned at `at`, frozen so that no unit can change it for the others. */
function plannedHistory(at: string): TileRecord['history'] {
  return Object.freeze([Object.freeze({ state: 'pending', at })]) as TileRecord['history'];
}
