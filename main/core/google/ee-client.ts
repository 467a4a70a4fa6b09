import { dirname } from 'node:path';
import { routeEarthEngineThroughFetch } from '../net/fetch-xhr';

/**
 * The one place that loads `@google/earthengine` in the engine's process (docs/earth-engine-client.md#loading).
 *
 * Before the first require it puts two things in Node's module cache, for the client's own `require` calls:
 * - `xmlhttprequest` → our fetch-based XHR (proxies, keep-alive, no synchronous mode);
 * - `googleapis` → a stand-in that loads the real package on first use. The client requires all of
 *   `googleapis` at load time for one function, signing in with a private key, which Tessera never calls
 *   (service accounts sign in through google-auth-library). Compiling that package is most of the client's
 *   load time (about 1 s of every `tessera` start on our 2-core machine, several seconds under load); the
 *   client itself stays unmodified, and if anything does use `google.…`, the real package is there.
 */
let loaded: unknown;

export function loadEarthEngineClient<T>(): T {
  if (loaded === undefined) {
    routeEarthEngineThroughFetch();
    deferGoogleapis();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('@google/earthengine');
  }
  return loaded as T;
}

function deferGoogleapis(): void {
  const eeDir = dirname(require.resolve('@google/earthengine/package.json'));
  const path = require.resolve('googleapis', { paths: [eeDir] });
  if (require.cache[path]) return; // already loaded for real: nothing to save
  let real: object | undefined;
  const google = new Proxy(
    {},
    {
      get(_target, key) {
        if (!real) {
          delete require.cache[path];
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          real = (require(path) as { google: object }).google;
        }
        return Reflect.get(real, key);
      },
    },
  );
  require.cache[path] = { id: path, filename: path, loaded: true, exports: { google } } as unknown as NodeJS.Module;
}
