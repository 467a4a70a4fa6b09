/**
 * The handlers of every channel that does not depend on the transport, written once over the engine host
 * and the dashboard's services: `tessera serve` answers its HTTP routes with them (server.ts), the desktop
 * app its IPC channels (main/electron/ipc-host.ts adds the stream and its desktop-only channels).
 * Requests arrive already checked against the channel's schema (shared/ipc.ts).
 */
import type { InvokeName, InvokeRequest, InvokeResponse } from '../../shared/ipc';
import type { HttpRoutedName } from '../../shared/http-routes';
import { RequestError } from '../core/errors';
import { compactOfSnapshot } from '../core/host/compact-grid';
import { attachPreviews, type HostPreviews } from '../core/preview/attach';
import type { DashboardHost } from './server';
import type { DashboardServices } from './services';

export type ChannelHandlers<K extends InvokeName> = { [N in K]: (request: InvokeRequest<N>) => InvokeResponse<N> | Promise<InvokeResponse<N>> };

/** One handler per HTTP-routed channel: the engine host's calls, the wizard, settings, sign-in, assets, checks. */
export function dashboardHandlers(host: DashboardHost, services: DashboardServices | undefined, what = 'dashboard', previews: HostPreviews = attachPreviews(host)): ChannelHandlers<HttpRoutedName> {
  const wizard = <T>(f: T | undefined): T => {
    if (!f) throw new RequestError(404, `this ${what} has no job wizard`);
    return f;
  };
  const svc = (): DashboardServices => {
    if (!services) throw new RequestError(404, `this ${what} has no settings, sign-in or assets`);
    return services;
  };
  return {
    snapshot: () => host.snapshot(),
    compactSnapshot: () => (host.compactSnapshot ? host.compactSnapshot() : compactOfSnapshot(host.snapshot())),
    summary: ({ job }) => host.summary(job),
    tile: ({ job, id }) => host.tile(job, id),
    command: (cmd) => host.command(cmd),
    previewGrid: (req) => wizard(host.previewGrid?.bind(host))(req),
    createJob: (req) => wizard(host.createJob?.bind(host))(req),
    checkRecipe: (req) => wizard(host.checkRecipe?.bind(host))(req),
    getSettings: () => svc().settings.get(),
    setSettings: (patch) => svc().settings.set(patch),
    authStatus: () => svc().auth.status(),
    signIn: ({ acceptWeakStorage }) => svc().auth.signIn(acceptWeakStorage ?? false),
    signOut: () => svc().auth.signOut(),
    cancelSignIn: () => svc().auth.cancelSignIn(),
    setOAuthClient: (input) => svc().auth.setClient(input),
    listAssets: ({ folder, recursive }) => svc().assets.list(folder, recursive ?? false),
    deleteAssets: ({ names, recursive }) => svc().assets.remove(names, recursive ?? false),
    preview: ({ job, unit }) => previews.read(job, unit),
    runDoctor: ({ job }) => {
      const doctor = svc().doctor;
      if (!doctor) throw new RequestError(404, `this ${what} has no checks`);
      return doctor.run(job);
    },
  };
}
