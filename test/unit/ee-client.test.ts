import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEarthEngineClient } from '../../main/core/google/ee-client';

/** Modules of the real `googleapis` package compiled in this process (its API surfaces live under build/src/apis). */
function googleapisModules(): string[] {
  return Object.keys(require.cache).filter((k) => /[\\/]googleapis[\\/]build[\\/]src[\\/]apis[\\/]/.test(k));
}

describe('loading the Earth Engine client', () => {
  it('does not compile googleapis at start-up, and still gives the real package to whoever uses it', () => {
    const ee = loadEarthEngineClient<{ Image: unknown; data: { authenticateViaPrivateKey: unknown } }>();
    expect(typeof ee.Image).toBe('function');
    expect(typeof ee.data.authenticateViaPrivateKey).toBe('function');
    expect(googleapisModules()).toEqual([]);
    // What the client's private-key sign-in reads: `google.auth.JWT`, from the real package, loaded now.
    const eeDir = dirname(require.resolve('@google/earthengine/package.json'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module cache entry the client reads
    const { google } = require(require.resolve('googleapis', { paths: [eeDir] })) as { google: { auth: { JWT: unknown } } };
    expect(typeof google.auth.JWT).toBe('function');
    expect(googleapisModules().length).toBeGreaterThan(10);
    // Loaded once: the same client for every caller.
    expect(loadEarthEngineClient()).toBe(ee);
  });
});
