import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crashPoint, setCrashHook } from '../../main/core/engine/crash-points';
import { installCrashHookFromEnv } from '../../main/cli/crash-hook';
import { REPO } from '../helpers/cli';

afterEach(() => setCrashHook(undefined));

describe('crash points', () => {
  it('are a no-op in the engine until a caller installs a hook', () => {
    expect(() => crashPoint('after-export')).not.toThrow();
  });

  it('TESSERA_CRASH_AT=<point>:<n> kills at the n-th pass of that point only', () => {
    const kills: string[] = [];
    installCrashHookFromEnv('after-merge:2', () => kills.push('kill'));
    crashPoint('mid-cleanup');
    crashPoint('after-merge');
    expect(kills).toEqual([]);
    crashPoint('after-merge');
    expect(kills).toEqual(['kill']);
    crashPoint('after-merge');
    expect(kills).toEqual(['kill']);
  });

  it('installs nothing without the variable', () => {
    installCrashHookFromEnv(undefined, () => {
      throw new Error('killed');
    });
    expect(() => crashPoint('before-export')).not.toThrow();
  });

  it('the engine (main/core) never reads the test-only variable itself', () => {
    const files = readdirSync(join(REPO, 'main/core'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const readsVariable = /env(\.|\[['"`])TESSERA_CRASH_AT/;
    const readers = files.filter((f) => readsVariable.test(readFileSync(join(REPO, 'main/core', f), 'utf8')));
    expect(readers).toEqual([]);
  });
});
