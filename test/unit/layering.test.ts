import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { REPO } from '../helpers/cli';

/** The folder decides what code may import (docs/ARCHITECTURE.md#layers-and-folders); lint is what enforces it. */
async function lint(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: REPO });
  const [result] = await eslint.lintText(code, { filePath: `${REPO}/${file}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint', () => {
  it('refuses electron in main/core, the CLI and the emulator', async () => {
    for (const file of ['main/core/x.ts', 'main/cli/x.ts', 'main/emulator/x.ts']) {
      expect(await lint(file, "import { app } from 'electron';\nexport const a = app;\n")).toHaveLength(1);
    }
  });

  it('refuses Node built-ins and electron in shared/ and renderer/', async () => {
    expect(await lint('shared/x.ts', "import { readFile } from 'node:fs';\nexport const r = readFile;\n")).toHaveLength(1);
    expect(await lint('renderer/x.ts', "import * as path from 'path';\nexport const p = path;\n")).toHaveLength(1);
    expect(await lint('renderer/x.ts', "import { ipcRenderer } from 'electron';\nexport const i = ipcRenderer;\n")).toHaveLength(1);
  });

  it('allows electron in the composition root', async () => {
    expect(await lint('main/electron/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toHaveLength(0);
  });
});
