// The window's options, CSP, navigation/new-window guards, permissions and openExternal allow-list,
// checked from the pure modules that build them (no Electron needed).
import { describe, expect, it } from 'vitest';
import { ISOLATED_WEB_PREFERENCES, mainWindowOptions } from '../../main/electron/window';
import {
  APP_ORIGIN, contentSecurityPolicy, denyPermissions, guardWebContents, isAllowedExternal, isAppUrl, rendererFileFor, responseHeaders,
  type NavigationEventLike, type WebContentsLike,
} from '../../main/electron/security';

describe('main window options', () => {
  const o = mainWindowOptions({ preload: '/app/out/electron/preload.cjs' });
  it('isolates the page: context isolation, sandbox, no Node, web security on', () => {
    expect(o.webPreferences).toEqual({ preload: '/app/out/electron/preload.cjs', ...ISOLATED_WEB_PREFERENCES, devTools: true });
    // What the isolation stands on, whatever else the constant holds: no Node.js anywhere in the page.
    expect(ISOLATED_WEB_PREFERENCES).toMatchObject({ contextIsolation: true, sandbox: true, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false });
    expect(Object.entries(o.webPreferences).filter(([k, v]) => k.startsWith('nodeIntegration') && v !== false)).toEqual([]);
    expect(Object.keys(o.webPreferences).filter((k) => k.startsWith('nodeIntegration'))).toHaveLength(3);
    expect(o.show).toBe(false);
    expect(JSON.stringify(o)).not.toMatch(/enableBlinkFeatures|allowpopups/);
  });
  it('wants the bundled CommonJS preload', () => {
    expect(() => mainWindowOptions({ preload: '/app/main/electron/preload.ts' })).toThrow(/CommonJS/);
    expect(() => mainWindowOptions({ preload: '' })).toThrow();
  });
});

describe('content security policy', () => {
  it('allows only the app and basemap images from the configured host', () => {
    const csp = contentSecurityPolicy();
    const d = Object.fromEntries(csp.split('; ').map((x) => [x.split(' ')[0], x.split(' ').slice(1).join(' ')]));
    expect(d['default-src']).toBe("'none'");
    expect(d['script-src']).toBe("'self'");
    expect(d['style-src']).toBe("'self'");
    expect(d['img-src']).toBe("'self' data: https://tile.openstreetmap.org");
    expect(d['connect-src']).toBe("'self'");
    expect(d['object-src']).toBe("'none'");
    expect(d['frame-ancestors']).toBe("'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|http:/);
  });
  it('takes another basemap URL template (its origin only), and refuses anything else', () => {
    expect(contentSecurityPolicy('https://tiles.example.org/osm/{z}/{x}/{y}.png')).toContain("img-src 'self' data: https://tiles.example.org;");
    expect(contentSecurityPolicy('https://tiles.example.org:8443/{z}/{x}/{y}.png')).toContain("img-src 'self' data: https://tiles.example.org:8443;");
    for (const bad of ['*', 'tiles.example.org', 'http://x.org/{z}/{x}/{y}.png', 'https://x.org/{z}/{x}.png', "https://x.org/{z}/{x}/{y}.png; script-src *", 'https://x.org/{z}/{x}/{y}.png\r\nX: y', 'https://*.x.org/{z}/{x}/{y}.png', 'https://x.org:99999/{z}/{x}/{y}.png', 'https://999.999.999.999/{z}/{x}/{y}.png', "https://x.org/{z}/{x}/{y}.png 'unsafe-inline'", '']) {
      expect(() => contentSecurityPolicy(bad), bad).toThrow(/not a basemap URL template/);
    }
  });
  it('every response of the app protocol carries it', () => {
    const url = 'https://tiles.example.org/{z}/{x}/{y}.png';
    expect(responseHeaders(url)).toMatchObject({ 'Content-Security-Policy': contentSecurityPolicy(url), 'X-Content-Type-Options': 'nosniff' });
  });
});

describe('app URLs and the protocol handler', () => {
  it('recognises the app origin by parsing, not by prefix', () => {
    expect(APP_ORIGIN).toBe('tessera://app');
    expect(isAppUrl('tessera://app/index.html')).toBe(true);
    expect(isAppUrl('tessera://app/')).toBe(true);
    for (const u of ['tessera://app.evil.org/', 'tessera://apple/', 'tessera://user:pw@app/', 'file:///index.html', 'https://app/', 'tessera:app', 'nonsense']) expect(isAppUrl(u), u).toBe(false);
  });
  it('serves only plain file names of the built renderer', () => {
    expect(rendererFileFor('tessera://app/')).toBe('index.html');
    expect(rendererFileFor('tessera://app/app.js')).toBe('app.js');
    expect(rendererFileFor('tessera://app/app.js?x=1#y')).toBe('app.js');
    // URL parsing resolves dot segments first: ../main.cjs names out/renderer/main.cjs, never out/electron/main.cjs.
    expect(rendererFileFor('tessera://app/../main.cjs')).toBe('main.cjs');
    for (const u of ['tessera://app/%2e%2e/%2e%2e/etc/passwd', 'tessera://app/a/b.js', 'tessera://app/.env', 'tessera://other/app.js', 'tessera://app/%E0%A4%A', 'tessera://app/..%2fx']) {
      expect(rendererFileFor(u), u).toBeNull();
    }
  });
});

describe('openExternal allow-list', () => {
  it('allows the https pages we link to', () => {
    for (const u of ['https://accounts.google.com/o/oauth2/v2/auth?client_id=x', 'https://console.cloud.google.com/apis/credentials', 'https://developers.google.com/earth-engine/guides']) expect(isAllowedExternal(u), u).toBe(true);
  });
  it('refuses everything else', () => {
    for (const u of [
      'http://accounts.google.com/', 'file:///etc/passwd', 'smb://host/share', 'javascript:alert(1)', 'tessera://app/', 'https://evil.example/',
      'https://accounts.google.com.evil.example/', 'https://evil.example/?https://accounts.google.com', 'https://user@accounts.google.com/',
      'https://accounts.google.com:8443/', '/relative', '', 'ms-settings:',
    ]) expect(isAllowedExternal(u), u).toBe(false);
  });
});

class FakeWebContents implements WebContentsLike {
  readonly listeners = new Map<string, ((e: NavigationEventLike, url?: string) => void)[]>();
  openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined;
  on(event: string, listener: (e: NavigationEventLike, url?: string) => void) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' }) {
    this.openHandler = h;
  }
  fire(event: string, url: string, legacy = false): boolean {
    let prevented = false;
    const e: NavigationEventLike = { ...(legacy ? {} : { url }), preventDefault: () => (prevented = true) };
    for (const l of this.listeners.get(event) ?? []) l(e, url);
    return prevented;
  }
}

describe('navigation and new windows', () => {
  it('prevents every navigation away from the app; allowed links go to the system browser', () => {
    const wc = new FakeWebContents();
    const opened: string[] = [];
    guardWebContents(wc, (u) => opened.push(u));
    for (const ev of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      expect(wc.fire(ev, 'tessera://app/index.html'), ev).toBe(false);
      expect(wc.fire(ev, 'https://evil.example/'), ev).toBe(true);
      expect(wc.fire(ev, 'file:///etc/passwd', true), ev).toBe(true);
    }
    expect(wc.fire('will-navigate', 'https://accounts.google.com/signin')).toBe(true);
    expect(opened).toEqual(['https://accounts.google.com/signin']);
    expect(wc.fire('will-attach-webview', 'https://x.org/')).toBe(true);
  });
  it('denies window.open, passing only allowed https links on', () => {
    const wc = new FakeWebContents();
    const opened: string[] = [];
    guardWebContents(wc, (u) => opened.push(u));
    expect(wc.openHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(wc.openHandler!({ url: 'tessera://app/index.html' })).toEqual({ action: 'deny' });
    expect(wc.openHandler!({ url: 'https://developers.google.com/earth-engine' })).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://developers.google.com/earth-engine']);
  });
});

describe('permissions', () => {
  it('refuses every request and every check', () => {
    let request: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | undefined;
    let check: ((wc: unknown, p: string) => boolean) | undefined;
    denyPermissions({ setPermissionRequestHandler: (h) => (request = h), setPermissionCheckHandler: (h) => (check = h) });
    for (const p of ['geolocation', 'notifications', 'media', 'clipboard-read', 'openExternal', 'fullscreen']) {
      let granted: boolean | undefined;
      request!({}, p, (g) => (granted = g));
      expect(granted, p).toBe(false);
      expect(check!({}, p), p).toBe(false);
    }
  });
});
