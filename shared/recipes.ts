/**
 * The built-in recipes (presets) and their parameters: one zod schema each, shared by the engine, the
 * CLI (`tessera recipes`) and the dashboard's wizard, so every front end validates the same form.
 * No node imports here.
 */
import { z } from 'zod';
import { didYouMean, isCalendarDate } from './suggest';

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'a date as YYYY-MM-DD' })
  // 2023-02-31 would otherwise reach Earth Engine, which rolls it over into March without a word.
  .refine(isCalendarDate, { error: (i) => `${String(i.input)} is not a real date (no such day in that month)`, abort: true });

const S2_BANDS = ['B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B9', 'B11', 'B12'] as const;

export const S2MedianParams = z
  .object({
    start: isoDate.describe('first day (inclusive), YYYY-MM-DD'),
    end: isoDate.describe('last day (exclusive), YYYY-MM-DD'),
    bands: z.array(z.enum(S2_BANDS)).min(1).default(['B2', 'B3', 'B4', 'B8']).describe('bands to keep'),
    maxCloudPercent: z.number().min(0).max(100).default(30).describe('skip scenes with more clouds (CLOUDY_PIXEL_PERCENTAGE)'),
  })
  .strict()
  .refine((p) => p.start < p.end, { error: 'start must be before end' });

export const LANDSAT_INDICES = ['NDVI', 'NBR', 'NDWI', 'NDMI'] as const;
export const STM_METRICS = ['p10', 'p25', 'p50', 'p75', 'p90', 'mean', 'stdDev', 'min', 'max'] as const;

export const LandsatStmParams = z
  .object({
    start: isoDate.describe('first day (inclusive), YYYY-MM-DD'),
    end: isoDate.describe('last day (exclusive), YYYY-MM-DD'),
    indices: z.array(z.enum(LANDSAT_INDICES)).min(1).default(['NDVI']).describe('spectral indices'),
    metrics: z.array(z.enum(STM_METRICS)).min(1).default(['p10', 'p50', 'p90', 'mean', 'stdDev']).describe('statistics over time'),
    maxCloudPercent: z.number().min(0).max(100).default(70).describe('skip scenes with more clouds (CLOUD_COVER)'),
  })
  .strict()
  .refine((p) => p.start < p.end, { error: 'start must be before end' });

export const AssetParams = z
  .object({
    id: z.string().min(1).describe('asset id, e.g. projects/my-project/assets/dem or USGS/SRTMGL1_003'),
    type: z.enum(['image', 'collection']).default('image').describe('an Image or an ImageCollection'),
    reducer: z.enum(['mosaic', 'median', 'mean', 'min', 'max']).default('mosaic').describe('how a collection becomes one image'),
    bands: z.array(z.string().min(1)).min(1).optional().describe('bands to keep (default all)'),
  })
  .strict();

const ImagePreset = z.discriminatedUnion('preset', [
  z.object({ preset: z.literal('s2-median'), params: z.unknown().optional() }).strict(),
  z.object({ preset: z.literal('landsat-stm'), params: z.unknown().optional() }).strict(),
  z.object({ preset: z.literal('asset'), params: z.unknown().optional() }).strict(),
]);

export const PointsParams = z
  .object({
    image: ImagePreset.describe('the image sampled: { "preset": "s2-median" | "landsat-stm" | "asset", "params": {…} }'),
    properties: z.array(z.string().min(1)).optional().describe('point properties copied to the table (default all)'),
    format: z.enum(['CSV', 'GeoJSON']).default('CSV').describe('file format of the per-tile tables'),
    geometries: z.boolean().default(true).describe('keep each point geometry in the table'),
  })
  .strict();

export const PRESETS = {
  's2-median': {
    kind: 'image',
    title: 'Sentinel-2 SR harmonized median composite, cloud-masked with the SCL band',
    schema: S2MedianParams,
  },
  'landsat-stm': {
    kind: 'image',
    title: 'Landsat 8/9 Collection 2 L2 spectral-temporal metrics (QA_PIXEL masking, scale factors applied)',
    schema: LandsatStmParams,
  },
  asset: { kind: 'image', title: 'An existing image or image-collection asset, clipped to each tile', schema: AssetParams },
  points: {
    kind: 'table',
    title: 'Point extraction: sample an image at the job\'s "points" layer; one table per tile with only its points',
    schema: PointsParams,
  },
} as const;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export const RecipeSpecSchema = z.union([
  z.object({ preset: z.enum(PRESET_NAMES as [PresetName, ...PresetName[]]), params: z.record(z.string(), z.unknown()).default({}) }).strict(),
  z.object({ file: z.string().min(1) }).strict(),
]);
export type RecipeSpec = z.infer<typeof RecipeSpecSchema>;

/** Validates a preset's parameters; returns the parsed value or one message naming the key. */
export function parsePresetParams(name: PresetName, params: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  const r = PRESETS[name].schema.safeParse(params ?? {});
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  const key = issue.path.length ? issue.path.map(String).join('.') : '(params)';
  let value: unknown = params ?? {};
  for (const k of issue.path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined;
  if (value === undefined && issue.path.length) return { ok: false, message: `recipe "${name}": params.${key} is missing` };
  if (issue.code === 'unrecognized_keys') {
    const known = describeParams(name).map((p) => p.name);
    const hint = issue.path.length === 0 && issue.keys.length === 1 ? didYouMean(issue.keys[0]!, known) : '';
    return { ok: false, message: `recipe "${name}": unknown parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `params.${[...issue.path, k].join('.')}`).join(', ')}${hint}` };
  }
  return { ok: false, message: `recipe "${name}": params.${key}: ${issue.message}` };
}

/** One line per parameter of a preset, for `tessera recipes` and forms: name, type, default, description. */
export function describeParams(name: PresetName): { name: string; type: string; optional: boolean; default?: unknown; description?: string }[] {
  const json = z.toJSONSchema(PRESETS[name].schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { type?: string; enum?: unknown[]; items?: { enum?: unknown[]; type?: string }; default?: unknown; description?: string }>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([key, p]) => ({
    name: key,
    type: p.enum ? p.enum.join(' | ') : p.type === 'array' ? `array of ${p.items?.enum ? p.items.enum.join(' | ') : (p.items?.type ?? 'value')}` : (p.type ?? 'object'),
    optional: !(json.required ?? []).includes(key) || p.default !== undefined,
    default: p.default,
    description: p.description,
  }));
}
