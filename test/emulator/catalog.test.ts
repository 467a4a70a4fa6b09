import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { algorithm, listAlgorithmsResponse, type ListAlgorithmsResponse } from '../../main/emulator/ee/algorithms';
import { supportedFunctions } from '../../main/emulator/ee/evaluator';
import { eeClient } from './ee-body';

/** Google's catalog snapshot (GET algorithms), kept in the repository as a fixture. */
const GOOGLE = path.resolve(__dirname, '../fixtures/google/algorithms.json');
const google = JSON.parse(readFileSync(GOOGLE, 'utf8')) as ListAlgorithmsResponse;
const shipped = listAlgorithmsResponse().algorithms;

describe('emulator algorithm catalog', () => {
  it("copies every entry unchanged from Google's catalog, in Google's order", () => {
    const byName = new Map(google.algorithms.map((a) => [a.name, a]));
    for (const entry of shipped) expect(entry).toEqual(byName.get(entry.name));
    const order = google.algorithms.map((a) => a.name).filter((n) => shipped.some((a) => a.name === n));
    expect(shipped.map((a) => a.name)).toEqual(order);
  });

  it('holds exactly the functions the evaluator follows (else: npx tsx scripts/emulator-catalog.mjs)', () => {
    expect(shipped.map((a) => a.name.replace(/^algorithms\//, '')).sort()).toEqual(supportedFunctions());
    expect(algorithm('Image.select')?.name).toBe('algorithms/Image.select');
    expect(algorithm('Image.entropy')).toBeUndefined();
  });

  it('is enough for the unmodified client to initialise and build export expressions', async () => {
    const ee = await eeClient();
    expect(typeof ee.Image.prototype.normalizedDifference).toBe('function');
    expect(typeof ee.ImageCollection.prototype.median).toBe('function');
    expect(typeof ee.Reducer.percentile).toBe('function');
  });
});
