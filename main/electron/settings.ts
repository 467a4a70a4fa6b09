/**
 * The desktop app's settings: preferences only (never job state — that lives in each job's journal).
 * Validated with shared/ipc.ts's zod schema on every write; the JSON Schema given to electron-store is
 * derived from the same zod schema, so the file on disk is checked too. No `electron` import.
 */
import { z } from 'zod';
import { SettingsSchema, type Settings } from '../../shared/ipc';
import { DEFAULT_BASEMAP_HOST } from './security';

export const DEFAULT_SETTINGS: Settings = {
  preventSleep: true,
  startAtLogin: false,
  notifications: true,
  basemapTileHost: DEFAULT_BASEMAP_HOST,
  jobFiles: [],
};

/** electron-store's `schema` option: the properties of the zod schema as JSON Schema (draft 2020-12). */
export function settingsJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(SettingsSchema) as { properties: Record<string, unknown> };
  return s.properties;
}

/** The key/value store underneath (electron-store in the app, a Map in tests). */
export interface KeyValueStore {
  get(key: string): unknown;
  set(values: Record<string, unknown>): void;
}

export class SettingsService {
  private readonly listeners = new Set<(s: Settings, changed: (keyof Settings)[]) => void>();

  constructor(private readonly store: KeyValueStore) {}

  get(): Settings {
    const raw = Object.fromEntries(Object.keys(DEFAULT_SETTINGS).map((k) => [k, this.store.get(k) ?? DEFAULT_SETTINGS[k as keyof Settings]]));
    const r = SettingsSchema.safeParse(raw);
    return r.success ? r.data : { ...DEFAULT_SETTINGS };
  }

  /** Validates the patch (a bad value throws a 400), writes it, tells listeners which keys changed. */
  set(patch: Partial<Settings>): Settings {
    const r = SettingsSchema.partial().strict().safeParse(patch);
    if (!r.success) throw Object.assign(new Error(`invalid settings: ${z.prettifyError(r.error).replace(/\s*\n\s*/g, '; ')}`), { status: 400 });
    const before = this.get();
    this.store.set(r.data as Record<string, unknown>);
    const after = this.get();
    const changed = (Object.keys(r.data) as (keyof Settings)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    if (changed.length) for (const l of this.listeners) l(after, changed);
    return after;
  }

  onChange(listener: (s: Settings, changed: (keyof Settings)[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
