import { readFileSync } from 'node:fs';
import { parseClientSecretJson, type AuthStatus, type OAuthClientInput } from '../../../shared/settings';
import { UserError } from '../errors';
import { writePrivateFileSync } from '../../common/atomic-write';
import { googleEndpoints, type GoogleEndpoints } from '../google/session';
import { revoke, signIn, type OAuthClientConfig } from './signin';
import type { StoredCredentials, Vault } from './vault';

/**
 * The signed-in account as the dashboards show it (desktop app and `tessera serve`): who is signed in,
 * with which OAuth client, signing in and out. The sign-in is the flow of main/core/auth/signin.ts; where
 * the consent page opens depends on the host — the desktop app opens the system browser itself and waits,
 * `tessera serve` hands the link to the page (which is already in the user's browser) and finishes in the
 * background.
 */
export interface AccountOptions {
  vault: Vault & { weakStorageWarning?(): string | null };
  /** Google's endpoints, or an emulator's. */
  endpoints(): GoogleEndpoints;
  /** Where a client set from the dashboard is kept (Google's client_secret.json format, mode 0600). */
  clientFile: string;
  /** A client given some other way (environment, the emulator's own), used when the file has none. */
  fallbackClient?(): OAuthClientConfig | undefined;
  /** Opens the consent page itself (desktop); without it, the status carries `consentUrl` for the page. */
  openBrowser?(url: string): Promise<void>;
  /** The Earth Engine project kept with the sign-in. */
  project?(): string | undefined;
  /** After a successful sign-in (hand it to open connections, resume jobs that stopped for want of one). */
  onSignedIn?(credentials: StoredCredentials): void | Promise<void>;
  /** After signing out (open connections lose the old sign-in). */
  onSignedOut?(): void | Promise<void>;
  timeoutMs?: number;
}

export class Account {
  private pending: { url: string | null; done: Promise<void>; abort: AbortController } | undefined;
  private lastError: string | null = null;

  constructor(private readonly o: AccountOptions) {}

  /** The configured client: the dashboard's file first, then the fallback; undefined when there is none. */
  client(): OAuthClientConfig | undefined {
    try {
      return parseClientSecretJson(readFileSync(this.o.clientFile, 'utf8'));
    } catch {
      return this.o.fallbackClient?.();
    }
  }

  async status(): Promise<AuthStatus> {
    const stored = await this.o.vault.load().catch(() => undefined);
    return {
      signedIn: !!stored,
      email: stored?.email ?? null,
      storage: this.o.vault.where,
      warning: this.o.vault.weakStorageWarning?.() ?? null,
      client: this.client()?.clientId ?? null,
      consentUrl: this.pending?.url ?? null,
      error: this.lastError,
    };
  }

  /** Keeps the OAuth client (pasted values or the downloaded JSON) for the next sign-in. */
  async setClient(input: OAuthClientInput): Promise<AuthStatus> {
    let c: OAuthClientConfig;
    try {
      c = 'json' in input ? parseClientSecretJson(input.json) : { clientId: input.clientId, clientSecret: input.clientSecret };
    } catch (e) {
      throw Object.assign(new UserError((e as Error).message), { status: 400 });
    }
    writePrivateFileSync(this.o.clientFile, `${JSON.stringify({ installed: { client_id: c.clientId, client_secret: c.clientSecret } }, null, 2)}\n`);
    return this.status();
  }

  /**
   * Signs in. With `openBrowser` it resolves when the sign-in is stored; without, as soon as the consent
   * link is known (the status carries it) — the rest happens when the user has agreed in their browser.
   * A second call while one waits returns the same link.
   */
  async signIn(): Promise<AuthStatus> {
    if (this.pending) return this.status();
    const client = this.client();
    if (!client) throw Object.assign(new UserError('no OAuth client yet: paste your "Desktop app" client (README, "Signing in", shows how to make one)'), { status: 400 });
    this.lastError = null;
    let linkKnown!: () => void;
    const link = new Promise<void>((resolve) => (linkKnown = resolve));
    const pending = { url: null as string | null, done: Promise.resolve(), abort: new AbortController() };
    this.pending = pending;
    const flow = signIn({
      endpoints: this.o.endpoints(),
      client,
      timeoutMs: this.o.timeoutMs ?? 300_000,
      signal: pending.abort.signal,
      openBrowser: async (url) => {
        pending.url = url;
        linkKnown();
        if (this.o.openBrowser) await this.o.openBrowser(url);
      },
    }).then(async (result) => {
      const project = this.o.project?.();
      const saved: StoredCredentials = { ...result.credentials, ...(project ? { project } : {}) };
      await this.o.vault.save(saved);
      await this.o.onSignedIn?.(saved);
    });
    pending.done = flow.then(
      () => {
        if (this.pending === pending) this.pending = undefined;
      },
      (e: unknown) => {
        if (this.pending === pending) this.pending = undefined;
        this.lastError = (e as Error)?.message ?? String(e);
      },
    );
    if (this.o.openBrowser) {
      await pending.done;
      if (this.lastError) throw Object.assign(new UserError(this.lastError), { status: 400 });
      return this.status();
    }
    await Promise.race([link, pending.done]);
    return this.status();
  }

  /** Revokes the sign-in at Google (best effort: offline still signs out here) and forgets it. */
  async signOut(): Promise<AuthStatus> {
    // A sign-in still waiting for the browser would sign the user back in: give it up first.
    await this.cancel();
    const stored = await this.o.vault.load().catch(() => undefined);
    if (stored) {
      // Revoked where it was made: an emulator's sign-in at that emulator, a Google one at Google (never the other way).
      await revoke(googleEndpoints(stored.emulator), stored).catch(() => undefined);
      await this.o.vault.clear();
      await this.o.onSignedOut?.();
    }
    this.lastError = null;
    return this.status();
  }

  /** Gives up a sign-in that waits for the browser (shutdown): its loopback port closes. */
  async cancel(): Promise<void> {
    const p = this.pending;
    p?.abort.abort();
    await p?.done;
  }
}

/**
 * The dashboards' `auth` service over an Account (main/server/services.ts). `signIn` may be wrapped by
 * the host (the desktop app records that the user agreed to weak storage while it runs).
 */
export function accountService(account: Account, signIn: (acceptWeakStorage: boolean) => Promise<AuthStatus> = () => account.signIn()) {
  return {
    status: () => account.status(),
    signIn,
    signOut: () => account.signOut(),
    cancelSignIn: async () => {
      await account.cancel();
      return account.status();
    },
    setClient: (input: OAuthClientInput) => account.setClient(input),
  };
}
