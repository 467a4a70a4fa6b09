import type { AssetDeleteResult, AssetList } from '../../shared/assets';
import type { AuthStatus, OAuthClientInput, Settings } from '../../shared/settings';
import type { DoctorReport } from '../../shared/doctor';

/**
 * What a dashboard offers beside the jobs: the user's settings, the signed-in account and the assets panel.
 * The desktop app and `tessera serve` each implement it over their own storage; main/server/handlers.ts
 * turns it into the channels' handlers (HTTP routes and IPC alike). Requests arrive already validated.
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
