import { dirname, join } from 'node:path';
import { Account, accountService } from '../core/auth/account';
import type { JobHost } from '../core/engine/host';
import type { AuthStatus } from '../../shared/settings';
import { assetService } from '../core/google/asset-browser';
import { doctorService } from '../core/doctor/service';
import { EMULATOR_CLIENT, googleEndpoints } from '../core/google/session';
import { JsonFileStore, SettingsService } from '../core/settings/settings';
import type { DashboardServices } from '../server/services';
import { cliVault, credentialsPath, emulatorBase } from './connect';

/**
 * `tessera serve`'s settings, sign-in and assets panel. Everything lives beside the CLI's credentials
 * (~/.config/tessera, or the folder of $TESSERA_CREDENTIALS): settings.json and the OAuth client's
 * client_secret.json, both mode 0600. The sign-in is the same file `tessera login` writes, so the CLI and
 * the dashboard share it. The page is already in the user's browser: the consent link is handed to it.
 */
export function serveServices(host: JobHost, emulator: string | undefined): { services: DashboardServices; settings: SettingsService; account: Account } {
  const dir = dirname(credentialsPath());
  const settings = new SettingsService(new JsonFileStore(join(dir, 'settings.json')));
  const base = emulator ? emulatorBase(emulator) : undefined;
  const account = new Account({
    vault: cliVault(),
    endpoints: () => googleEndpoints(base),
    clientFile: join(dir, 'client_secret.json'),
    fallbackClient: () => {
      if (process.env.TESSERA_CLIENT_ID && process.env.TESSERA_CLIENT_SECRET) return { clientId: process.env.TESSERA_CLIENT_ID, clientSecret: process.env.TESSERA_CLIENT_SECRET };
      return base ? { clientId: EMULATOR_CLIENT.id, clientSecret: EMULATOR_CLIENT.secret } : undefined;
    },
    project: () => settings.get().eeProject ?? (base ? EMULATOR_CLIENT.project : undefined),
    // Open connections take the new sign-in; jobs that stopped because nobody was signed in go on.
    onSignedIn: async (credentials) => {
      await host.signInChanged(credentials.refresh_token);
      for (const name of host.names()) {
        const s = host.summary(name);
        if (!s.running && !s.progress.finished) host.start(name);
      }
    },
    onSignedOut: () => host.signInChanged(undefined),
  });
  // Another default project: connections no job holds are made afresh with it.
  settings.onChange((_s, changed) => {
    if (changed.includes('eeProject')) void host.forgetIdleConnections();
  });
  return {
    settings,
    account,
    services: {
      settings: { get: () => settings.get(), set: (patch) => settings.set(patch) },
      // The CLI's file is mode 0600 and always allowed: there is no weaker storage to agree to.
      auth: emulatorAware(accountService(account), host, base),
      assets: assetService(() => host.earthEngine()),
      doctor: doctorService(host, () => googleEndpoints(base)),
    },
  };
}

/**
 * With `--emulator`, the jobs sign in at the emulator by themselves (no stored sign-in needed): the
 * header then shows that account — the emulator's user — instead of "Sign in".
 */
function emulatorAware<S extends { status(): Promise<AuthStatus> }>(service: S, host: JobHost, base: string | undefined): S {
  if (!base) return service;
  return {
    ...service,
    status: async () => {
      const status = await service.status();
      if (status.signedIn) return status;
      const email = await host.signedInAs();
      return email ? { ...status, signedIn: true, email: `${email} (emulator)`, storage: `the emulator at ${base} (signed in by itself)` } : status;
    },
  };
}
