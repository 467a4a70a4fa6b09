import { spawn } from 'node:child_process';

/** A command and its arguments, run without a shell. */
export interface OpenerCommand {
  cmd: string;
  args: string[];
}

/**
 * How a URL is opened on `platform`: `$BROWSER` when set (as xdg-open and Python do; `%s` marks the URL,
 * else it is appended), otherwise the platform's opener. The URL is always one argument of a program
 * started without a shell: on Windows `rundll32 url.dll,FileProtocolHandler URL` (what `start` would do,
 * without cmd.exe, which cuts an unquoted URL at `&` and reads `^`, `|`, `%`).
 */
export function openerCommand(url: string, platform: NodeJS.Platform, env: Record<string, string | undefined>): OpenerCommand {
  const custom = env.BROWSER?.trim();
  if (custom) {
    const parts = custom.split(/\s+/);
    const rest = parts.slice(1);
    return { cmd: parts[0]!, args: rest.some((p) => p.includes('%s')) ? rest.map((p) => p.replace('%s', url)) : [...rest, url] };
  }
  if (platform === 'darwin') return { cmd: 'open', args: [url] };
  if (platform === 'win32') return { cmd: 'rundll32.exe', args: ['url.dll,FileProtocolHandler', url] };
  return { cmd: 'xdg-open', args: [url] };
}

/**
 * Opens a URL in the user's browser (openerCommand). Resolves once the opener has started; a missing
 * opener is reported so the caller can print the URL instead.
 */
export function openInBrowser(url: string): Promise<boolean> {
  const { cmd, args } = openerCommand(url, process.platform, process.env);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true, shell: false, windowsHide: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
