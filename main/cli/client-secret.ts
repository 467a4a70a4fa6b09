import { open } from 'node:fs/promises';
import { UserError } from '../core/errors';

/**
 * Where `tessera login` takes the OAuth client's secret from. A secret on the command line ends up in the
 * shell's history and in every user's `ps`: a file (`--client-secret-file`), standard input
 * (`--client-secret-stdin`) or TESSERA_CLIENT_SECRET keep it out; `--client-secret` still works, with a
 * warning (docs/security.md, "Secrets").
 */
export const CLIENT_SECRET_FLAG_WARNING =
  '--client-secret puts the secret in your shell history and in the process list; use --client-secret-file FILE, --client-secret-stdin or TESSERA_CLIENT_SECRET instead';

const MAX_SECRET_BYTES = 64 * 1024;

export interface ClientSecretSources {
  flag?: string;
  file?: string;
  stdin?: boolean;
  env: Record<string, string | undefined>;
}

export async function clientSecretFrom(s: ClientSecretSources, readStdin: () => Promise<string>): Promise<{ secret?: string; warning?: string }> {
  const given = [s.flag !== undefined, s.file !== undefined, s.stdin === true].filter(Boolean).length;
  if (given > 1) throw new UserError('give the client secret by one of --client-secret, --client-secret-file or --client-secret-stdin');
  if (s.file !== undefined) return { secret: nonEmpty(await readSecretFile(s.file), s.file) };
  if (s.stdin) return { secret: nonEmpty(await readStdin(), 'standard input') };
  if (s.flag !== undefined) return { secret: s.flag, warning: CLIENT_SECRET_FLAG_WARNING };
  const env = s.env.TESSERA_CLIENT_SECRET;
  return env ? { secret: env } : {};
}

function nonEmpty(text: string, where: string): string {
  const secret = text.replace(/^\uFEFF/, '').trim();
  if (!secret) throw new UserError(`the client secret in ${where} is empty`);
  return secret;
}

async function readSecretFile(path: string): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new UserError(`cannot read the client secret file ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UserError(`${path} is not a regular file; give the file that holds the client secret`);
    if (st.size > MAX_SECRET_BYTES) throw new UserError(`${path} is too large to be a client secret`);
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** Standard input up to its end (at most 64 KiB). */
export function readAllStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => {
      text += d;
      if (text.length > MAX_SECRET_BYTES) {
        process.stdin.destroy();
        reject(new UserError('standard input is too large to be a client secret'));
      }
    });
    process.stdin.once('end', () => resolve(text));
    process.stdin.once('error', reject);
  });
}
