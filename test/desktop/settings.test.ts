import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// electron-store is conf plus Electron's paths: conf itself (no Electron import) checks the schema here.
type ConfLike = KeyValueStore & { path: string; set(key: string | Record<string, unknown>, value?: unknown): void };
// (conf's types need moduleResolution node16; the root tsconfig uses node10)
const confModule = 'conf';
let Conf: new (o: Record<string, unknown>) => ConfLike;
beforeAll(async () => {
  Conf = ((await import(confModule)) as { default: typeof Conf }).default;
});
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, SettingsService, settingsJsonSchema, type KeyValueStore } from '../../main/core/settings/settings';

function mapStore() {
  const m = new Map<string, unknown>();
  return { m, get: (k: string) => m.get(k), set: (v: Record<string, unknown>) => Object.entries(v).forEach(([k, x]) => m.set(k, x)) };
}

describe('settings', () => {
  it('start from the defaults and keep only preferences (no job state)', () => {
    const s = new SettingsService(mapStore());
    expect(s.get()).toEqual(DEFAULT_SETTINGS);
    expect(Object.keys(settingsJsonSchema()).sort()).toEqual(['basemapUrl', 'eeProject', 'jobFiles', 'notifications', 'preventSleep', 'startAtLogin']);
  });

  it('validate every write and report what changed', () => {
    const store = mapStore();
    const s = new SettingsService(store);
    const seen: string[][] = [];
    s.onChange((_s, changed) => seen.push(changed));
    expect(s.set({ preventSleep: false, notifications: true })).toMatchObject({ preventSleep: false });
    expect(seen).toEqual([['preventSleep']]);
    // @ts-expect-error: deliberately wrong
    expect(() => s.set({ preventSleep: 'no' })).toThrow(/invalid settings/);
    // @ts-expect-error: deliberately wrong
    expect(() => s.set({ tiles: {} })).toThrow(/invalid settings/);
    expect(() => s.set({ basemapUrl: 'https://x.org/{z}/{x}/{y}.png; script-src *' })).toThrow(/invalid settings/);
    expect(() => s.set({ eeProject: 'My Project' })).toThrow(/invalid settings/);
    expect(s.set({ eeProject: 'my-ee-project', basemapUrl: 'https://tiles.example.org/{z}/{x}/{y}.png' })).toMatchObject({ eeProject: 'my-ee-project', basemapUrl: 'https://tiles.example.org/{z}/{x}/{y}.png' });
    expect(store.m.get('tiles')).toBeUndefined();
  });

  it('a damaged file falls back to the defaults', () => {
    const store = mapStore();
    store.m.set('preventSleep', 'maybe');
    expect(new SettingsService(store).get()).toEqual(DEFAULT_SETTINGS);
    // Key by key: one damaged value does not throw away the others.
    store.m.set('eeProject', 'kept-project');
    expect(new SettingsService(store).get()).toEqual({ ...DEFAULT_SETTINGS, eeProject: 'kept-project' });
  });

  it('the JSON Schema given to electron-store works in conf: defaults accepted, bad values refused, damaged file reset', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'tessera-settings-'));
    const open = () => new Conf({ cwd, projectName: 'tessera-test', schema: settingsJsonSchema(), defaults: { ...DEFAULT_SETTINGS }, rootSchema: { additionalProperties: false }, clearInvalidConfig: true });
    const conf = open();
    const s = new SettingsService(conf);
    expect(s.get()).toEqual(DEFAULT_SETTINGS);
    s.set({ startAtLogin: true, jobFiles: ['/jobs/a.json'] });
    expect(open().get('jobFiles')).toEqual(['/jobs/a.json']);
    expect(() => conf.set('preventSleep', 1)).toThrow(/schema/i);
    expect(() => conf.set('basemapUrl', 'http://x.org/{z}/{x}/{y}.png')).toThrow(/schema/i);
    expect(() => conf.set('eeProject', 'UPPER')).toThrow(/schema/i);
    expect(() => conf.set('jobState', {})).toThrow(/schema/i);
    writeFileSync(conf.path, '{"preventSleep": "no"');
    expect(new SettingsService(open()).get()).toEqual(DEFAULT_SETTINGS);
  });
});
