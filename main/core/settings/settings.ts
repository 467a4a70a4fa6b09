/**
 * The user's preferences: validated with shared/settings.ts's zod schema on every write, stored in a
 * key/value store (electron-store in the desktop app, a JSON file for `tessera serve`). The JSON Schema given
 * to electron-store is derived from the same zod schema, so the file on disk is checked too.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_SETTINGS, SettingsSchema, type Settings } from '../../../shared/settings';
import { writePrivateFileSync } from '../../common/atomic-write';
import { RequestError } from '../errors';

export { DEFAULT_SETTINGS };

/** electron-store's `schema` option: the properties of the zod schema as JSON Schema (draft 2020-12). */
export function settingsJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(SettingsSchema) as { properties: Record<string, unknown> };
  return s.properties;
}

/** The key/value store underneath (electron-store in the app, JsonFileStore for serve, a Map in tests). */
export interface KeyValueStore {
  get(key: string): unknown;
  set(values: Record<string, unknown>): void;
}

export class SettingsService {
  private readonly listeners = new Set<(s: Settings, changed: (keyof Settings)[]) => void>();

  constructor(private readonly store: KeyValueStore) {}

  /** The stored preferences; a damaged or outdated store gives the defaults key by key. */
  get(): Settings {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]) {
      const v = this.store.get(k);
      const ok = v !== undefined && SettingsSchema.shape[k].safeParse(v).success;
      out[k] = ok ? v : DEFAULT_SETTINGS[k];
    }
    return SettingsSchema.parse(out);
  }

  /** Validates the patch (a bad value throws a 400), writes it, tells listeners which keys changed. */
  set(patch: Partial<Settings>): Settings {
    const r = SettingsSchema.partial().strict().safeParse(patch);
    if (!r.success) throw new RequestError(400, `invalid settings: ${z.prettifyError(r.error).replace(/\s*\n\s*/g, '; ')}`);
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

/**
 * A JSON file as the store (`tessera serve`): read once, written whole through a temporary file and a
 * rename (never half-written), mode 0600. A damaged file reads as empty — the defaults — and is replaced
 * on the next write.
 */
export class JsonFileStore implements KeyValueStore {
  private values: Record<string, unknown>;

  constructor(readonly path: string) {
    this.values = {};
    try {
      const j = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      if (j && typeof j === 'object' && !Array.isArray(j)) this.values = j as Record<string, unknown>;
    } catch {
      // missing or damaged: the defaults
    }
  }

  get(key: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.values, key) ? this.values[key] : undefined;
  }

  set(values: Record<string, unknown>): void {
    const next = { ...this.values, ...values };
    writePrivateFileSync(this.path, `${JSON.stringify(next, null, 2)}\n`);
    this.values = next;
  }
}
