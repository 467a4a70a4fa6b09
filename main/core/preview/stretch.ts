/**
 * The contrast stretch of a job's quicklooks (docs/previews.md): per band, the 2nd and 98th percentile of
 * the valid pixels of the first finished unit. It is computed once per job and band set and then kept,
 * so that every tile of a mosaic is drawn with the same mapping and neighbours match.
 */
export interface BandStretch {
  readonly min: number;
  readonly max: number;
}

export interface Stretch {
  /** What the stretch applies to: the band count and data type of the file it was computed on. */
  readonly bandSet: string;
  readonly bands: readonly BandStretch[];
}

export const LOW_PERCENTILE = 0.02;
export const HIGH_PERCENTILE = 0.98;

/** The key of a band set: files with the same key share one stretch. */
export function bandSetKey(bands: number, sampleFormat: string, bitsPerSample: number): string {
  return `${bands}x${sampleFormat}${bitsPerSample}`;
}

/** 2–98 percentile of the values for which `valid` holds; a flat or empty band gets a unit range. */
export function percentileStretch(values: ArrayLike<number>, valid: (v: number) => boolean): BandStretch {
  const kept: number[] = [];
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (valid(v)) kept.push(v);
  }
  if (kept.length === 0) return { min: 0, max: 1 };
  const sorted = Float64Array.from(kept).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
  const min = at(LOW_PERCENTILE);
  const max = at(HIGH_PERCENTILE);
  return max > min ? { min, max } : { min, max: min + 1 };
}

/** A value mapped to 0–255 by a band's stretch (clamped). */
export function toByte(v: number, s: BandStretch): number {
  const t = (v - s.min) / (s.max - s.min);
  return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
}

/** A stretch as read back from disk, or undefined when it is not one (a damaged file is recomputed). */
export function parseStretch(raw: unknown): Stretch | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as { bandSet?: unknown; bands?: unknown };
  if (typeof r.bandSet !== 'string' || !Array.isArray(r.bands)) return undefined;
  const bands: BandStretch[] = [];
  for (const b of r.bands as unknown[]) {
    const x = b as { min?: unknown; max?: unknown };
    if (typeof x?.min !== 'number' || typeof x.max !== 'number' || !Number.isFinite(x.min) || !Number.isFinite(x.max) || x.max <= x.min) return undefined;
    bands.push({ min: x.min, max: x.max });
  }
  return bands.length ? { bandSet: r.bandSet, bands } : undefined;
}
