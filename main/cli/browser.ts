import { spawn } from 'node:child_process';

/**
 * Opens a URL in the user's browser: `$BROWSER` when set (as xdg-open and Python do; `%s` marks the URL,
 * else it is appended), otherwise the platform's opener. Resolves once the opener has started; a
 * missing opener is reported so the caller can print the URL instead.
 */
export function openInBrowser(url: string): Promise<boolean> {
  const custom = process.env.BROWSER?.trim();
  let cmd: string;
  let args: string[];
  if (custom) {
    const parts = custom.split(/\s+/);
    cmd = parts[0]!;
    args = parts.slice(1).some((p) => p.includes('%s')) ? parts.slice(1).map((p) => p.replace('%s', url)) : [...parts.slice(1), url];
  } else if (process.platform === 'darwin') {
    [cmd, args] = ['open', [url]];
  } else if (process.platform === 'win32') {
    [cmd, args] = ['cmd', ['/c', 'start', '""', url]];
  } else {
    [cmd, args] = ['xdg-open', [url]];
  }
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
