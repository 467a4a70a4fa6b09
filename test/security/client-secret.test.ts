// `--client-secret` on the command line ends up in shell history and `ps`: the secret can come from a
// file, the environment or stdin instead; the flag still works, with a warning.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientSecretFrom, CLIENT_SECRET_FLAG_WARNING } from '../../main/cli/client-secret';
import { BIN } from '../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'tessera-secret-'));
const secretFile = join(dir, 'secret.txt');
writeFileSync(secretFile, 'GOCSPX-from-a-file\n');
chmodSync(secretFile, 0o600);
const noStdin = () => Promise.reject(new Error('stdin must not be read'));

describe('where the OAuth client secret comes from', () => {
  it('a file (trailing newline dropped), no warning', async () => {
    expect(await clientSecretFrom({ file: secretFile, env: {} }, noStdin)).toEqual({ secret: 'GOCSPX-from-a-file' });
  });
  it('stdin, no warning', async () => {
    expect(await clientSecretFrom({ stdin: true, env: {} }, () => Promise.resolve('GOCSPX-piped\r\n'))).toEqual({ secret: 'GOCSPX-piped' });
  });
  it('the environment, no warning', async () => {
    expect(await clientSecretFrom({ env: { TESSERA_CLIENT_SECRET: 'GOCSPX-env' } }, noStdin)).toEqual({ secret: 'GOCSPX-env' });
  });
  it('the flag still works, with a warning that names the safer ways', async () => {
    const r = await clientSecretFrom({ flag: 'GOCSPX-flag', env: {} }, noStdin);
    expect(r.secret).toBe('GOCSPX-flag');
    expect(r.warning).toBe(CLIENT_SECRET_FLAG_WARNING);
    expect(r.warning).toMatch(/--client-secret-file/);
    expect(r.warning).toMatch(/TESSERA_CLIENT_SECRET/);
    expect(r.warning).toMatch(/--client-secret-stdin/);
  });
  it('two sources at once, an empty file or a folder: one clear line', async () => {
    await expect(clientSecretFrom({ flag: 'a', file: secretFile, env: {} }, noStdin)).rejects.toThrow(/one of --client-secret, --client-secret-file or --client-secret-stdin/);
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '\n');
    await expect(clientSecretFrom({ file: empty, env: {} }, noStdin)).rejects.toThrow(/empty/);
    await expect(clientSecretFrom({ file: dir, env: {} }, noStdin)).rejects.toThrow(/not a regular file/);
    await expect(clientSecretFrom({ file: join(dir, 'missing'), env: {} }, noStdin)).rejects.toThrow(/cannot read/);
  });
});

describe('tessera login', () => {
  // --timeout 0 is refused right after the client is read: enough to see what login says about the secret.
  const login = (args: string[], input?: string) =>
    spawnSync(process.execPath, [BIN, 'login', '--no-browser', '--client-id', 'id.apps.googleusercontent.com', ...args, '--timeout', '0'], {
      encoding: 'utf8', input: input ?? '', env: { ...process.env, TESSERA_CLIENT_SECRET: '', TESSERA_CREDENTIALS: join(dir, 'creds.json') },
    });
  it('warns about --client-secret on the command line', () => {
    const r = login(['--client-secret', 'GOCSPX-flag']);
    expect(r.stderr).toContain(`warning: ${CLIENT_SECRET_FLAG_WARNING}`);
    expect(r.stderr).toMatch(/--timeout must be a positive number/);
    expect(r.status).toBe(1);
  });
  it('reads it from a file or stdin without a warning', () => {
    for (const r of [login(['--client-secret-file', secretFile]), login(['--client-secret-stdin'], 'GOCSPX-piped\n')]) {
      expect(r.stderr).not.toMatch(/warning/);
      expect(r.stderr).toMatch(/--timeout must be a positive number/);
      expect(r.status).toBe(1);
    }
  });
});
