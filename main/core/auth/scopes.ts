import { UserError } from '../errors';

/**
 * The access Tessera needs from a sign-in, and the check of what Google actually granted. Google's consent
 * screen lets a user untick single permissions; the token response's `scope` (space-separated) lists what
 * was granted (docs/signin-and-doctor.md, "Granted scopes").
 */
const GOOGLE = 'https://www.googleapis.com/auth/';

/**
 * Scopes: Earth Engine (and cloud-platform, which EE accepts too) and full Drive — EE's own clients ask
 * for it since 2025, and `drive.file` cannot reach the files EE creates; `openid email` name the account.
 */
export const SCOPES = [
  'openid',
  'email',
  `${GOOGLE}earthengine`,
  `${GOOGLE}cloud-platform`,
  `${GOOGLE}drive`,
];

export interface NeededAccess {
  readonly id: 'earthengine' | 'drive' | 'storage';
  /** What it is, in the user's words. */
  readonly what: string;
  /** Why Tessera needs it. */
  readonly why: string;
  /** The consent screen's wording of the box to tick. */
  readonly box: string;
  /** Any one of these grants it. */
  readonly scopes: readonly string[];
}

export const NEEDED_ACCESS: readonly NeededAccess[] = [
  {
    id: 'earthengine',
    what: 'Google Earth Engine',
    why: 'to run the exports',
    box: 'View and manage your Google Earth Engine data',
    // cloud-platform also reaches Earth Engine (EE accepts either).
    scopes: [`${GOOGLE}earthengine`, `${GOOGLE}cloud-platform`],
  },
  {
    id: 'drive',
    what: 'Google Drive',
    why: 'to download and clean up the exported files',
    box: 'See, edit, create, and delete all of your Google Drive files',
    // Only full Drive access reaches the files Earth Engine writes (drive.file cannot; drive.readonly cannot delete).
    scopes: [`${GOOGLE}drive`],
  },
];

/** Cloud Storage: what a job with a bucket destination needs instead of Drive (docs/service-accounts.md). */
export const STORAGE_ACCESS: NeededAccess = {
  id: 'storage',
  what: 'Google Cloud Storage',
  why: 'to download and delete the exported objects in the bucket',
  box: 'Manage your data in Google Cloud Storage',
  scopes: [`${GOOGLE}devstorage.read_write`, `${GOOGLE}devstorage.full_control`, `${GOOGLE}cloud-platform`],
};

/** The needed access a grant lacks; `granted` is the token response's `scope` (text or list). */
export function missingAccess(granted: string | readonly string[]): NeededAccess[] {
  const have = new Set(typeof granted === 'string' ? granted.split(/\s+/).filter(Boolean) : granted);
  return NEEDED_ACCESS.filter((a) => !a.scopes.some((s) => have.has(s)));
}

/**
 * A sign-in without some needed access. Exit 3 and waiting reason `signed-out`: only the user can fix it,
 * by signing in again and leaving the box ticked.
 */
export class MissingAccessError extends UserError {
  readonly missing: readonly NeededAccess[];

  constructor(missing: readonly NeededAccess[]) {
    // Runs treat it as signed out (engine/failures.ts isSignedOut knows this name): waiting reason `signed-out`.
    super(missingAccessMessage(missing), 3, 'signed-out');
    this.name = 'MissingAccessError';
    this.missing = missing;
  }
}

/** One line: what is missing, why it matters, and how to grant it. */
export function missingAccessMessage(missing: readonly NeededAccess[]): string {
  const what = missing.map((a) => a.what).join(' and ');
  const why = missing.map((a) => a.why).join(', and ');
  const boxes = missing.map((a) => `"${a.box}"`).join(' and ');
  return `Google did not grant Tessera access to ${what} (its box was unticked on the consent screen), which it needs ${why}; sign in again (tessera login, or Settings in the dashboard) and tick ${boxes}`;
}

/** Throws MissingAccessError when the granted `scope` lacks needed access; a response without `scope` is trusted. */
export function checkGrantedScopes(scope: string | null | undefined): void {
  if (typeof scope !== 'string') return;
  const missing = missingAccess(scope);
  if (missing.length) throw new MissingAccessError(missing);
}
