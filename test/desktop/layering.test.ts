import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { REPO } from '../helpers/cli';

async function lint(file: string, code: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: REPO }).lintText(code, { filePath: `${REPO}/${file}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}
const IMPORT = "import { app } from 'electron';\nexport const a = app;\n";

describe('only the desktop shell imports electron', () => {
  it('allows main/electron (with its preload) and a main/preload folder', async () => {
    for (const f of ['main/electron/main.ts', 'main/electron/preload.ts', 'main/preload/index.ts']) expect(await lint(f, IMPORT), f).toEqual([]);
  });
  it('refuses it everywhere else, tests and scripts included', async () => {
    for (const f of ['main/core/x.ts', 'main/cli/x.ts', 'main/emulator/x.ts', 'main/server/x.ts', 'shared/ipc.ts', 'renderer/transport/electron.ts', 'test/desktop/x.test.ts', 'scripts/x.mjs']) {
      expect(await lint(f, IMPORT), f).toHaveLength(1);
    }
  });
});
