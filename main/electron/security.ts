/**
 * The window's security policy as pure functions (no `electron` import): the CSP, the navigation and
 * new-window guards, the permission handler and the allow-list of `shell.openExternal`. main.ts attaches
 * them to Electron's objects; test/desktop/security.test.ts checks them in plain Node.
 */
import { BasemapUrlSchema, basemapOrigin, DEFAULT_BASEMAP_URL } from '../../shared/settings';

/** The scheme and host the renderer is served from (protocol.handle), never file://. */
export const APP_SCHEME = 'tessera';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/**
 * The renderer's Content-Security-Policy: nothing but the app's own files, except basemap images from the
 * origin of the basemap URL template (a setting). No inline script or style, no eval (zod runs jitless), no
 * connect-src beyond the app (the engine is reached through IPC), no frames, no forms.
 */
export function contentSecurityPolicy(basemapUrl: string = DEFAULT_BASEMAP_URL): string {
  const ok = BasemapUrlSchema.safeParse(basemapUrl);
  if (!ok.success) throw new Error(`not a basemap URL template: ${JSON.stringify(basemapUrl)}`);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: ${basemapOrigin(ok.data)}`,
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-src 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers the custom protocol sends with every file. */
export function responseHeaders(basemapUrl?: string): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(basemapUrl),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}

/** True for a URL of the app itself (parsed, compared by scheme and host — never startsWith). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/** Hosts whose https pages may be opened in the system browser (sign-in, Cloud console, docs). */
export const EXTERNAL_HOSTS: readonly string[] = [
  'accounts.google.com',
  'console.cloud.google.com',
  'developers.google.com',
  'code.earthengine.google.com',
  'github.com',
];

/** Where a URL handed to the system browser may point, beside EXTERNAL_HOSTS over https. */
export interface ExternalUrlOptions {
  hosts?: readonly string[];
  /**
   * Exact `http://` loopback origins also allowed: the emulator's, for the sign-in page only, when the user
   * configured one (TESSERA_EMULATOR). A configured origin that is not loopback is ignored.
   */
  loopbackOrigins?: readonly string[];
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The URL to hand to `shell.openExternal`, or null to refuse. The raw string must be a plain absolute URL
 * (no spaces, control characters or backslashes: platform openers and WHATWG parsing read those
 * differently), parse with `URL`, and its origin must be exactly `https://<allowed host>` (default port,
 * no user or password) or one of `loopbackOrigins`. What is returned is the parsed URL's serialisation,
 * so the browser gets exactly what was checked (docs/security.md, "Desktop").
 */
export function externalUrl(raw: string, options: ExternalUrlOptions = {}): string | null {
  if (typeof raw !== 'string' || raw.length > 8192 || /[\\\s\u0000-\u001f\u007f]/.test(raw)) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  if (u.username !== '' || u.password !== '') return null;
  const hosts = options.hosts ?? EXTERNAL_HOSTS;
  if (u.protocol === 'https:' && u.port === '' && hosts.includes(u.hostname)) return u.href;
  const loopback = (options.loopbackOrigins ?? []).filter((o) => {
    try {
      const l = new URL(o);
      return l.protocol === 'http:' && LOOPBACK_HOSTS.has(l.hostname) && l.origin === o.replace(/\/$/, '');
    } catch {
      return false;
    }
  });
  if (u.protocol === 'http:' && loopback.includes(u.origin)) return u.href;
  return null;
}

/** True when `url` may go to `shell.openExternal` (see externalUrl; open the URL that returns). */
export function isAllowedExternal(url: string, hosts: readonly string[] = EXTERNAL_HOSTS): boolean {
  return externalUrl(url, { hosts }) !== null;
}

/** What decides the packaged build's debugging switches. */
export interface BuildInfo {
  packaged: boolean;
  env: Record<string, string | undefined>;
}

/**
 * The end-to-end test mode (TESSERA_E2E=1: no quit confirmation, DevTools for Playwright): only in the
 * unpackaged dev build. A packaged app ignores the variable, so nobody can reopen DevTools in it.
 */
export function e2eMode(build: BuildInfo): boolean {
  return !build.packaged && build.env.TESSERA_E2E === '1';
}

/** DevTools: the dev build only. */
export function devToolsAllowed(build: BuildInfo): boolean {
  return !build.packaged;
}

/** A navigation event as Electron passes it (`will-navigate`, `will-frame-navigate`, `will-redirect`). */
export interface NavigationEventLike {
  url?: string;
  preventDefault(): void;
}

/** What the guards need of a webContents. */
export interface WebContentsLike {
  on(event: 'will-navigate' | 'will-frame-navigate' | 'will-redirect' | 'will-attach-webview', listener: (event: NavigationEventLike, url?: string) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * Every webContents: navigation away from the app is prevented (and an allowed https link goes to the
 * system browser), `window.open` is denied, `<webview>` is never attached.
 */
export function guardWebContents(wc: WebContentsLike, openExternal: (url: string) => void): void {
  const guard = (event: NavigationEventLike, url?: string) => {
    const target = event.url ?? url ?? '';
    if (isAppUrl(target)) return;
    event.preventDefault();
    const allowed = externalUrl(target);
    if (allowed) openExternal(allowed);
  };
  wc.on('will-navigate', guard);
  wc.on('will-frame-navigate', guard);
  wc.on('will-redirect', guard);
  wc.on('will-attach-webview', (event) => event.preventDefault());
  wc.setWindowOpenHandler(({ url }) => {
    const allowed = externalUrl(url);
    if (allowed) openExternal(allowed);
    return { action: 'deny' };
  });
}

/** What the permission handlers need of a session. */
export interface SessionLike {
  setPermissionRequestHandler(handler: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (wc: unknown, permission: string) => boolean): void;
}

/** Every permission (camera, geolocation, notifications from the page, …) is refused. */
export function denyPermissions(session: SessionLike): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/**
 * Maps a request of the custom protocol to a file of the built renderer: only plain names directly in
 * it (index.html, app.js, app.css, …), never a path that climbs out. Returns the relative name or null.
 */
export function rendererFileFor(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (!isAppUrl(url)) return null;
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (path === '/' || path === '') return 'index.html';
  const name = path.slice(1);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes('..')) return null;
  return name;
}

