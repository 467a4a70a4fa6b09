import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { UserError } from '../../core/errors';
import { parseClientSecretJson } from '../../../shared/settings';
import { revoke, signIn, type OAuthClientConfig } from '../../core/auth/signin';
import { EMULATOR_CLIENT, googleEndpoints } from '../../core/google/session';
import { openInBrowser } from '../browser';
import { cliVault, credentialsPath, emulatorBase } from '../connect';
import { clientSecretFrom, readAllStdin } from '../client-secret';
import { readServiceAccountKey, serviceAccountSession } from '../../core/auth/service-account';
import { forgetServiceAccount, saveServiceAccount, serviceAccountFile } from '../../core/auth/service-account-store';

interface LoginOptions {
  browser: boolean;
  emulator?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretFile?: string;
  clientSecretStdin?: boolean;
  clientFile?: string;
  project?: string;
  port?: string;
  timeout: string;
  /** A key file, or true: the one GOOGLE_APPLICATION_CREDENTIALS names. */
  serviceAccount?: string | true;
}

export function loginCommand(): Command {
  return new Command('login')
    .description('sign in to Google (Earth Engine and Drive) and keep the sign-in for later runs')
    .option('--no-browser', 'print the sign-in URL and read back the address the browser ends on (for SSH sessions)')
    .option('--emulator <url>', 'sign in at this emulator instead of Google')
    .option('--client-file <client_secret.json>', 'your "Desktop app" OAuth client, as downloaded from the Google Cloud console')
    .option('--client-id <id>', 'OAuth client id (or TESSERA_CLIENT_ID)')
    .option('--client-secret-file <file>', 'read the OAuth client secret from this file (or set TESSERA_CLIENT_SECRET)')
    .option('--client-secret-stdin', 'read the OAuth client secret from standard input')
    .option('--client-secret <secret>', 'OAuth client secret on the command line (discouraged: it shows in shell history and ps)')
    .option('--project <id>', 'the Earth Engine (Cloud) project to use')
    .option('--port <n>', 'loopback port for the redirect (default: any free one)')
    .option('--timeout <seconds>', 'give up waiting for the browser after this long', '300')
    .option('--service-account [key.json]', "sign in as a service account with its JSON key, without a browser (no path: the key GOOGLE_APPLICATION_CREDENTIALS names); for servers and bucket jobs")
    .action(async (o: LoginOptions) => {
      if (o.serviceAccount !== undefined) return loginServiceAccount(o);
      const endpoints = googleEndpoints(o.emulator ? emulatorBase(o.emulator) : undefined);
      const client = o.emulator ? { clientId: EMULATOR_CLIENT.id, clientSecret: EMULATOR_CLIENT.secret } : await clientConfig(o);
      const timeoutMs = Number(o.timeout) * 1000;
      if (!(timeoutMs > 0)) throw new UserError(`--timeout must be a positive number of seconds, not "${o.timeout}"`);
      const port = o.port === undefined ? 0 : Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be a port number, not "${o.port}"`);
      const result = await signIn({
        endpoints,
        client,
        port,
        timeoutMs,
        openBrowser: async (url) => {
          if (o.browser && (await openInBrowser(url))) {
            process.stderr.write('Your browser was opened to sign in. Waiting for it…\n');
            return;
          }
          process.stderr.write(`Open this address in a browser, sign in and allow access:\n\n  ${url}\n\n`);
        },
        pastedRedirect: o.browser ? undefined : () => askLine('Then paste the address the browser ends on (it may show an error page; that is expected):\n> ', timeoutMs),
      });
      const project = o.project ?? (o.emulator ? EMULATOR_CLIENT.project : undefined);
      const vault = cliVault();
      await vault.save({ ...result.credentials, ...(project ? { project } : {}) });
      process.stdout.write(
        `Signed in as ${result.credentials.email ?? 'an unnamed account'}${project ? ` for Earth Engine project ${project}` : ' (no project yet: give --project, or set "ee": { "project" } in each job)'}.\n` +
          `The sign-in is kept in ${credentialsPath()} (mode 600). Anyone with that file can use your Earth Engine and Drive: keep it private.\n`,
      );
    });
}

export function logoutCommand(): Command {
  return new Command('logout')
    .description('revoke the stored sign-in at Google and delete it')
    .option('--emulator <url>', 'the emulator the sign-in is for')
    .action(async (o: { emulator?: string }) => {
      const vault = cliVault();
      // A service account's key is forgotten here (there is nothing to revoke: delete the key in the Cloud console if it leaked).
      const forgotSa = await forgetServiceAccount(serviceAccountFile(credentialsPath()));
      if (forgotSa) process.stdout.write(`Forgot the service-account key ${serviceAccountFile(credentialsPath())} (the key itself stays valid at Google until you delete it in the Cloud console).\n`);
      const stored = await vault.load();
      if (!stored) {
        if (!forgotSa) process.stdout.write('Not signed in.\n');
        return;
      }
      const at = o.emulator ? emulatorBase(o.emulator) : stored.emulator;
      await revoke(googleEndpoints(at), stored);
      await vault.clear();
      process.stdout.write(`Signed out${stored.email ? ` ${stored.email}` : ''}: the sign-in was revoked and ${vault.where} deleted.\n`);
    });
}

async function clientConfig(o: LoginOptions): Promise<OAuthClientConfig> {
  if (o.clientFile) {
    let text: string;
    try {
      text = await readFile(o.clientFile, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read the client file ${o.clientFile} (${(e as Error).message})`);
    }
    // The same reading as the dashboards' (a "Web application" client is refused with one line).
    try {
      return parseClientSecretJson(text);
    } catch (e) {
      throw new UserError(`${o.clientFile}: ${(e as Error).message}`);
    }
  }
  const clientId = o.clientId ?? process.env.TESSERA_CLIENT_ID;
  const fromUser = await clientSecretFrom({ flag: o.clientSecret, file: o.clientSecretFile, stdin: o.clientSecretStdin, env: process.env }, readAllStdin);
  if (fromUser.warning) process.stderr.write(`warning: ${fromUser.warning}\n`);
  const clientSecret = fromUser.secret;
  if (!clientId || !clientSecret) {
    throw new UserError('give your OAuth client: --client-file client_secret.json (or --client-id and --client-secret-file); README, "Signing in", shows how to make one');
  }
  return { clientId, clientSecret };
}

/**
 * `tessera login --service-account KEY.json` (docs/service-accounts.md): the key signs a JWT bearer grant at
 * once (google-auth-library's JWT), the granted access is checked, then a copy of the key is kept 0600 in
 * the credentials folder. Nothing is kept when Google refuses it.
 */
async function loginServiceAccount(o: LoginOptions): Promise<void> {
  const path = o.serviceAccount === true ? process.env.GOOGLE_APPLICATION_CREDENTIALS : o.serviceAccount;
  if (!path) throw new UserError('--service-account needs the key file (tessera login --service-account KEY.json), or GOOGLE_APPLICATION_CREDENTIALS set to it');
  const key = await readServiceAccountKey(path);
  const emulator = o.emulator ? emulatorBase(o.emulator) : undefined;
  const project = o.project ?? key.project_id ?? (emulator ? EMULATOR_CLIENT.project : undefined);
  const session = serviceAccountSession(key, googleEndpoints(emulator), project);
  await session.accessToken(true);
  const file = serviceAccountFile(credentialsPath());
  saveServiceAccount(file, key, { ...(project ? { project } : {}), ...(emulator ? { emulator } : {}) });
  process.stdout.write(
    `Signed in as the service account ${key.client_email}${project ? ` for Earth Engine project ${project}` : ''}, without a browser.\n` +
      `Its key is kept in ${file} (mode 600); runs use it until tessera logout. Anyone with that file can act as the service account: keep it private.\n` +
      'A service account\'s Drive exports land in its own small Drive, not yours: give jobs a Cloud Storage destination ("destination": { "type": "gcs", "bucket": …, "prefix": … }).\n',
  );
}

function askLine(prompt: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
    const timer = setTimeout(() => {
      rl.close();
      reject(new UserError(`sign-in timed out after ${Math.round(timeoutMs / 1000)} s waiting for the pasted address`));
    }, timeoutMs);
    process.stderr.write(prompt);
    rl.once('line', (line) => {
      clearTimeout(timer);
      resolve(line); // before close(): closing fires the 'close' handler, which would reject first
      rl.close();
    });
    rl.once('close', () => {
      clearTimeout(timer);
      reject(new UserError('sign-in cancelled: no address was pasted'));
    });
  });
}
