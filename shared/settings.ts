/**
 * The user's preferences and sign-in, as every host shows them (the desktop app through IPC, `tessera serve`
 * over HTTP): one schema each, used to validate the settings form in the renderer, the payloads at the
 * boundary and the file on disk. Preferences only — never job state (that lives in each job's journal).
 */
import { z } from 'zod';

/** OpenStreetMap's standard tiles: the basemap when nothing else is set. */
export const DEFAULT_BASEMAP_URL = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';

/**
 * A basemap tile URL template: https only, a bare host (the CSP allows exactly that origin for images),
 * `{z}`, `{x}` and `{y}` present, nothing that could break out of a header or an attribute.
 */
export const BasemapUrlSchema = z
  .string()
  .trim()
  .max(500)
  .regex(/^https:\/\/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+(:\d{1,5})?\/[A-Za-z0-9._~\-/{}@%&=?]*$/, 'an https URL template such as https://tile.openstreetmap.org/{z}/{x}/{y}.png')
  .refine((u) => u.includes('{z}') && u.includes('{x}') && u.includes('{y}'), 'the template needs {z}, {x} and {y}')
  // What the CSP is built from must parse (a port above 65535 or a dotted number that is no address does not).
  .refine((u) => basemapOriginOrNull(u) !== null, 'not a URL a browser can load (check the host name and port)');

function basemapOriginOrNull(url: string): string | null {
  try {
    const u = new URL(url.replace(/\{[a-z]\}/g, '0'));
    return u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/** The origin the CSP must allow for basemap images (`https://host[:port]`); the default's for a bad URL. */
export function basemapOrigin(url: string): string {
  return basemapOriginOrNull(url) ?? 'https://tile.openstreetmap.org';
}

/** A Google Cloud project id (6–30 characters: lower-case letters, digits, hyphens; starts with a letter). */
export const ProjectIdSchema = z.string().trim().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Cloud project id such as my-ee-project (6–30 lower-case letters, digits, -)');

/** The preferences (electron-store in the app, a JSON file beside the CLI's credentials for `tessera serve`). */
export const SettingsSchema = z.object({
  /** Keep the computer awake (powerSaveBlocker) while a job runs (desktop app). */
  preventSleep: z.boolean(),
  /** Start Tessera when the user logs in (desktop app). */
  startAtLogin: z.boolean(),
  /** Notifications (job done, needs you, tile failed for good, Drive full). */
  notifications: z.boolean(),
  /** Where the map's basemap tiles come from (its origin is allowed in the CSP's img-src). */
  basemapUrl: BasemapUrlSchema,
  /** The Earth Engine project for jobs that name none (`ee.project` in the job file wins). */
  eeProject: ProjectIdSchema.nullable(),
  /** Job files opened (and resumed) at start-up (desktop app). */
  jobFiles: z.array(z.string().min(1).max(4096)).max(100),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const DEFAULT_SETTINGS: Settings = {
  preventSleep: true,
  startAtLogin: false,
  notifications: true,
  basemapUrl: DEFAULT_BASEMAP_URL,
  eeProject: null,
  jobFiles: [],
};

/** The keys a host can honour: `tessera serve` has no tray, login item or power blocker. */
export const DESKTOP_ONLY_SETTINGS = ['preventSleep', 'startAtLogin', 'jobFiles'] as const satisfies readonly (keyof Settings)[];

/**
 * The OAuth client (type "Desktop app") Tessera signs in with: pasted as the two values or as the whole
 * client_secret.json Google offers for download.
 */
export const OAuthClientInputSchema = z.union([
  z.object({ clientId: z.string().trim().min(10).max(300).regex(/^[A-Za-z0-9._-]+$/, 'a client id such as 1234-abc.apps.googleusercontent.com'), clientSecret: z.string().trim().min(6).max(300) }).strict(),
  z.object({ json: z.string().min(2).max(20_000) }).strict(),
]);
export type OAuthClientInput = z.infer<typeof OAuthClientInputSchema>;

/** The one line refusing a "Web application" client file (CLI, `tessera serve`, desktop app). */
export const WEB_CLIENT_MESSAGE =
  'this is a "Web application" OAuth client, which Google refuses for a desktop sign-in (redirect_uri_mismatch): create a "Desktop app" client in the Google Cloud console (APIs & Services → Credentials → Create credentials → OAuth client ID → Desktop app) and use its JSON';

/** Reads a pasted client_secret.json (`installed`: a Desktop app client; `web` is refused); throws a user-facing message. */

export function parseClientSecretJson(text: string): { clientId: string; clientSecret: string } {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new Error('this is not JSON: paste the whole client_secret.json downloaded from the Cloud console');
  }
  const doc = (j ?? {}) as { installed?: unknown; web?: unknown };
  // A "Web application" client gets Google's redirect_uri_mismatch for the random loopback port of a desktop sign-in.
  if (doc.installed === undefined && doc.web !== undefined) throw new Error(WEB_CLIENT_MESSAGE);
  const c = doc.installed;
  const r = z.object({ client_id: z.string().min(10), client_secret: z.string().min(6) }).safeParse(c);
  if (!r.success) throw new Error('no client_id / client_secret under "installed": download the JSON of a "Desktop app" OAuth client');
  return { clientId: r.data.client_id, clientSecret: r.data.client_secret };
}

export const AuthStatusSchema = z.object({
  signedIn: z.boolean(),
  email: z.string().nullable(),
  /** Where the sign-in is kept, for messages (e.g. "the system keychain"). */
  storage: z.string(),
  /** Set when storage is weak (Linux without a secret service): the user must agree before we store. */
  warning: z.string().nullable(),
  /** The OAuth client's id when one is configured (never its secret). */
  client: z.string().nullable().optional(),
  /**
   * Set while a sign-in waits for the user in their browser and the host cannot open it itself (`tessera
   * serve`): the page offers this Google consent link.
   */
  consentUrl: z.string().url().nullable().optional(),
  /** Why the last sign-in failed (one line), until the next attempt. */
  error: z.string().nullable().optional(),
});
export type AuthStatus = z.infer<typeof AuthStatusSchema>;
