import { z } from 'zod';
import { AssetDeleteRequestSchema, AssetListRequestSchema, type AssetDeleteResult, type AssetList } from '../../shared/assets';
import { OAuthClientInputSchema, SettingsSchema, type AuthStatus, type OAuthClientInput, type Settings } from '../../shared/settings';
import { DoctorRequestSchema, type DoctorReport } from '../../shared/doctor';

/**
 * What a dashboard offers beside the jobs: the user's settings, the signed-in account and the assets panel.
 * The desktop app and `tessera serve` each implement it over their own storage; main/server/server.ts and
 * main/electron/ipc-host.ts expose it (HTTP routes, IPC channels). Requests arrive already validated.
 */
export interface DashboardServices {
  settings: { get(): Settings; set(patch: Partial<Settings>): Settings };
  auth: {
    status(): Promise<AuthStatus>;
    signIn(acceptWeakStorage: boolean): Promise<AuthStatus>;
    signOut(): Promise<AuthStatus>;
    cancelSignIn(): Promise<AuthStatus>;
    setClient(input: OAuthClientInput): Promise<AuthStatus>;
  };
  assets: {
    list(folder: string, recursive: boolean): Promise<AssetList>;
    remove(names: string[], recursive: boolean): Promise<AssetDeleteResult>;
  };
  /** `tessera doctor`'s checks (main/core/doctor/service.ts); absent in hosts without a sign-in. */
  doctor?: { run(job?: string): Promise<DoctorReport> };
}

/** A refused service request: the status the server answers with. */
class ServiceError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new ServiceError(400, `invalid request: ${z.prettifyError(r.error).replace(/\s*\n\s*/g, '; ')}`);
  return r.data;
}

/**
 * The HTTP face of the services (`tessera serve`), under /api/: `GET|PUT settings`, `GET auth`,
 * `POST auth/sign-in`, `POST auth/sign-out`, `POST auth/cancel`, `PUT auth/client`, `POST assets/list`, `POST assets/delete`, `POST doctor`.
 * `parts` is the path after /api/; `body` the parsed JSON body (undefined for GET). Unknown routes: 404.
 */
export async function serviceRoute(services: DashboardServices, method: string, parts: string[], body: () => Promise<unknown>): Promise<unknown> {
  const route = `${method} ${parts.join('/')}`;
  switch (route) {
    case 'GET settings':
      return services.settings.get();
    case 'PUT settings':
      return services.settings.set(parse(SettingsSchema.partial().strict(), await body()));
    case 'GET auth':
      return services.auth.status();
    case 'POST auth/sign-in':
      return services.auth.signIn(parse(z.object({ acceptWeakStorage: z.boolean().optional() }).strict(), (await body()) ?? {}).acceptWeakStorage ?? false);
    case 'POST auth/sign-out':
      return services.auth.signOut();
    case 'POST auth/cancel':
      return services.auth.cancelSignIn();
    case 'PUT auth/client':
      return services.auth.setClient(parse(OAuthClientInputSchema, await body()));
    case 'POST assets/list': {
      const r = parse(AssetListRequestSchema, await body());
      return services.assets.list(r.folder, r.recursive ?? false);
    }
    case 'POST doctor': {
      if (!services.doctor) throw new ServiceError(404, 'this dashboard has no checks');
      return services.doctor.run(parse(DoctorRequestSchema, (await body()) ?? {}).job);
    }
    case 'POST assets/delete': {
      const r = parse(AssetDeleteRequestSchema, await body());
      return services.assets.remove(r.names, r.recursive ?? false);
    }
    default:
      throw new ServiceError(404, 'not found');
  }
}
