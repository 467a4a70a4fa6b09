import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { REPO } from '../helpers/cli';

/**
 * The boundaries of docs/ARCHITECTURE.md#enforced-boundaries that need resolved import paths: each rule
 * is shown to fire on a file placed where it does not belong, and to leave allowed imports alone.
 */
const eslint = new ESLint({ cwd: REPO });

async function problems(file: string, code: string, rule: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${REPO}/${file}` });
  return result!.messages.filter((m) => m.ruleId === rule).map((m) => m.message);
}

const paths = (file: string, code: string) => problems(file, code, 'import-x/no-restricted-paths');
const cycles = (file: string, code: string) => problems(file, code, 'import-x/no-cycle');

describe('the renderer imports only shared/, its own files and packages', () => {
  it('refuses test, bench and main code, at any depth', async () => {
    expect(await paths('renderer/x.ts', "import { report } from '../bench/result';\nexport const r = report;\n")).toHaveLength(1);
    expect(await paths('renderer/components/x.tsx', "import { tessera } from '../../test/helpers/cli';\nexport const t = tessera;\n")).toHaveLength(1);
    expect(await paths('renderer/map/x.ts', "import { tileId } from '../../main/core/grid/tile-id';\nexport const t = tileId;\n")).toHaveLength(1);
  });

  it('allows shared/, its own files and packages', async () => {
    const code = "import { TILE_STATES } from '../../shared/contract';\nimport { STATE_STYLES } from '../states';\nimport { z } from 'zod';\nexport const a = [TILE_STATES, STATE_STYLES, z];\n";
    expect(await paths('renderer/components/x.tsx', code)).toEqual([]);
  });
});

describe('the emulator uses no engine code', () => {
  it('refuses main/core beyond its neutral base, and the programs that use it', async () => {
    expect(await paths('main/emulator/x.ts', "import { JobRunner } from '../core/engine/runner';\nexport const r = JobRunner;\n")).toEqual([
      expect.stringContaining('neutral base'),
    ]);
    expect(await paths('main/emulator/ee/x.ts', "import { splitTile } from '../../core/grid/split';\nexport const s = splitTile;\n")).toHaveLength(1);
    expect(await paths('main/emulator/x.ts', "import { connect } from '../cli/connect';\nexport const c = connect;\n")).toHaveLength(1);
  });

  it('allows the neutral base and shared/', async () => {
    const code = "import { syncDir } from '../common/atomic-write';\nimport { Journal } from '../common/journal';\nimport { resolveCrs } from '../core/geo/crs';\nimport { DRIVE_FULL_MESSAGE } from '../../shared/messages';\nexport const a = [syncDir, Journal, resolveCrs, DRIVE_FULL_MESSAGE];\n";
    expect(await paths('main/emulator/x.ts', code)).toEqual([]);
  });
});

describe('main/common, the neutral base, imports neither the engine nor the emulator', () => {
  it('refuses main/core and main/emulator, allows its own files', async () => {
    expect(await paths('main/common/x.ts', "import { JobRunner } from '../core/engine/runner';\nexport const r = JobRunner;\n")).toEqual([expect.stringContaining('neutral base')]);
    expect(await paths('main/common/x.ts', "import { Persistence } from '../emulator/persist';\nexport const p = Persistence;\n")).toHaveLength(1);
    expect(await paths('main/common/x.ts', "import { Journal } from './journal';\nexport const j = Journal;\n")).toEqual([]);
  });
});

describe('main/core imports neither its callers nor the emulator', () => {
  it('refuses main/server, main/cli and main/emulator', async () => {
    expect(await paths('main/core/engine/x.ts', "import { startDashboardServer } from '../../server/server';\nexport const s = startDashboardServer;\n")).toHaveLength(1);
    expect(await paths('main/core/x.ts', "import { credentialsPath } from '../cli/connect';\nexport const c = credentialsPath;\n")).toHaveLength(1);
    expect(await paths('main/core/x.ts', "import { startEmulator } from '../emulator';\nexport const e = startEmulator;\n")).toHaveLength(1);
  });
});

describe('no import cycles', () => {
  // geo/crs.ts imports UserError from errors.ts: errors.ts importing crs back closes a cycle.
  it('refuses a module that imports, at run time, a module that imports it', async () => {
    expect(await cycles('main/core/errors.ts', "import { resolveCrs } from './geo/crs';\nexport const r = resolveCrs;\n")).toHaveLength(1);
  });

  it('lets a type-only import close the loop (types are erased)', async () => {
    expect(await cycles('main/core/errors.ts', "import type { Crs } from './geo/crs';\nexport type C = Crs;\n")).toEqual([]);
  });
});
