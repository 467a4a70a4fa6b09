// Sign-in and desktop hygiene (issue: hostile input and local security), checked from the pure functions
// that decide: which URLs may go to the system browser, how a URL is handed to the platform's opener, and
// whether a packaged build may open DevTools.
import { describe, expect, it } from 'vitest';
import { devToolsAllowed, e2eMode, externalUrl, isAllowedExternal } from '../../main/electron/security';
import { openerCommand } from '../../main/cli/browser';

describe('openExternal accepts only exact https origins on the allow-list', () => {
  it.each([
    'https://accounts.google.com\\@evil.com',
    'https://accounts.google.com\\.evil.com/',
    'https://accounts.google.com@evil.com/',
    'https://evil.com#https://accounts.google.com/',
    'https://accounts.google.com.evil.com/',
    'http://accounts.google.com/',
    'https://accounts.google.com:444/',
    'https://ACCOUNTS.google.com /x',
    ' https://accounts.google.com/',
    'https://accounts.google.com/\nLocation: https://evil.com',
    'javascript:alert(1)',
    'file:///etc/passwd',
    'https://xn--ccounts-5ya.google.com/',
    'https://127.0.0.1:8080/',
  ])('refuses %j', (url) => {
    expect(externalUrl(url)).toBeNull();
    expect(isAllowedExternal(url)).toBe(false);
  });

  it('allows the sign-in page and hands over the parsed URL, not the raw string', () => {
    expect(externalUrl('https://accounts.google.com/o/oauth2/v2/auth?client_id=a&scope=b%20c')).toBe('https://accounts.google.com/o/oauth2/v2/auth?client_id=a&scope=b%20c');
    expect(isAllowedExternal('https://console.cloud.google.com/apis/credentials')).toBe(true);
  });

  it("allows the configured emulator's loopback origin only for sign-in, and only when it is loopback http", () => {
    const signIn = { loopbackOrigins: ['http://127.0.0.1:47811'] };
    expect(externalUrl('http://127.0.0.1:47811/o/oauth2/v2/auth?x=1', signIn)).toBe('http://127.0.0.1:47811/o/oauth2/v2/auth?x=1');
    expect(externalUrl('http://127.0.0.1:47812/o/oauth2/v2/auth', signIn)).toBeNull();
    expect(externalUrl('http://127.0.0.1:47811\\@evil.com/', signIn)).toBeNull();
    // An emulator origin that is not loopback is never trusted, even when configured.
    expect(externalUrl('http://emulator.example.com/o/oauth2/v2/auth', { loopbackOrigins: ['http://emulator.example.com'] })).toBeNull();
    expect(externalUrl('http://127.0.0.1:47811/o/oauth2/v2/auth')).toBeNull();
  });
});

describe('packaged builds ignore TESSERA_E2E', () => {
  it('DevTools only in the unpackaged dev build', () => {
    expect(devToolsAllowed({ packaged: true, env: { TESSERA_E2E: '1' } })).toBe(false);
    expect(devToolsAllowed({ packaged: true, env: {} })).toBe(false);
    expect(devToolsAllowed({ packaged: false, env: {} })).toBe(true);
  });
  it('end-to-end mode (no quit confirmation) only in the unpackaged dev build', () => {
    expect(e2eMode({ packaged: true, env: { TESSERA_E2E: '1' } })).toBe(false);
    expect(e2eMode({ packaged: false, env: { TESSERA_E2E: '1' } })).toBe(true);
    expect(e2eMode({ packaged: false, env: {} })).toBe(false);
  });
});

describe('the browser is opened without a shell', () => {
  const url = 'http://127.0.0.1:5000/o/oauth2/v2/auth?client_id=a&redirect_uri=http%3A%2F%2F127.0.0.1&state=x^y|z';
  it('Windows: the URL is one argument of rundll32, never parsed by cmd', () => {
    const c = openerCommand(url, 'win32', {});
    expect(c.cmd.toLowerCase()).not.toMatch(/cmd(\.exe)?$/);
    expect(c.cmd).toMatch(/rundll32(\.exe)?$/i);
    expect(c.args).toEqual(['url.dll,FileProtocolHandler', url]);
  });
  it('macOS and Linux: open / xdg-open with the URL as one argument', () => {
    expect(openerCommand(url, 'darwin', {})).toEqual({ cmd: 'open', args: [url] });
    expect(openerCommand(url, 'linux', {})).toEqual({ cmd: 'xdg-open', args: [url] });
  });
  it('$BROWSER: the URL replaces %s as a whole argument', () => {
    expect(openerCommand(url, 'linux', { BROWSER: 'firefox --new-tab %s' })).toEqual({ cmd: 'firefox', args: ['--new-tab', url] });
    expect(openerCommand(url, 'win32', { BROWSER: 'chrome' })).toEqual({ cmd: 'chrome', args: [url] });
  });
});
