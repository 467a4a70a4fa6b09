// electron-builder.yml checked offline with electron-builder's own validator (its scheme.json); the
// packaging itself (`npm run dist`) downloads Electron and is not run here.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli';

const require = createRequire(join(REPO, 'package.json'));
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as { validateConfiguration: (c: unknown, log: unknown) => Promise<void> };
const yaml = require('js-yaml') as { load(text: string): Record<string, unknown> };
const log = { isEnabled: false, add: () => undefined };
const config = () => yaml.load(readFileSync(join(REPO, 'electron-builder.yml'), 'utf8'));

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema validation", async () => {
    await expect(validateConfiguration(config(), log)).resolves.toBeUndefined();
  });

  it('the validator does catch mistakes (so the check above means something)', async () => {
    await expect(validateConfiguration({ ...config(), electronFuses: { runAsNod: false } }, log)).rejects.toThrow(/electronFuses/);
    await expect(validateConfiguration({ ...config(), linux: { target: ['AppImage'], bogus: 1 } }, log)).rejects.toThrow(/linux/);
  });

  it('builds AppImage + deb, NSIS and dmg from the build output only, WASM unpacked, fuses set', () => {
    const c = config() as {
      appId: string; files: string[]; asar: boolean; asarUnpack: string[]; extraMetadata: { main: string }; icon: string;
      electronFuses: Record<string, boolean>; linux: { target: string[] }; win: { target: string[] }; mac: { target: string[] };
    };
    expect(c.appId).toBe('org.tessera.app');
    expect(c.linux.target).toEqual(['AppImage', 'deb']);
    expect(c.win.target).toEqual(['nsis']);
    expect(c.mac.target).toEqual(['dmg']);
    expect(c.files.filter((f) => !f.startsWith('!'))).toEqual(['out/electron/**', 'out/renderer/**', 'out/recipe/**', 'package.json']);
    expect(c.asar).toBe(true);
    expect(c.asarUnpack).toContain('node_modules/sql.js/dist/*.wasm');
    // The recipe child runs as Node under its permission model, which reads real files only.
    expect(c.asarUnpack).toContain('out/recipe/**');
    expect(c.extraMetadata.main).toBe('out/electron/main.cjs');
    expect(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).main).toBe('out/electron/main.cjs');
    expect(readFileSync(join(REPO, c.icon)).subarray(1, 4).toString()).toBe('PNG');
    // runAsNode on: the recipe child is the app's binary with ELECTRON_RUN_AS_NODE=1 (docs/security.md).
    expect(c.electronFuses).toMatchObject({ runAsNode: true, enableNodeOptionsEnvironmentVariable: false, onlyLoadAppFromAsar: true, enableEmbeddedAsarIntegrityValidation: true, grantFileProtocolExtraPrivileges: false });
  });
});
