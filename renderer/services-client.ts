import { AssetDeleteRequestSchema, AssetDeleteResultSchema, AssetListRequestSchema, AssetListSchema, type AssetDeleteRequest, type AssetDeleteResult, type AssetList, type AssetListRequest } from '../shared/assets';
import { AuthStatusSchema, OAuthClientInputSchema, SettingsSchema, type AuthStatus, type OAuthClientInput, type Settings } from '../shared/settings';
import type { ServiceName } from './transport/services';
import { DoctorReportSchema, DoctorRequestSchema, type DoctorReport, type DoctorRequest } from '../shared/doctor';

/**
 * The settings, sign-in and assets panels' API: requests checked before they leave, answers validated
 * against shared/ before the UI sees them — as renderer/api.ts does for jobs.
 */
export class ServicesClient {
  constructor(
    private readonly call: (name: ServiceName, body?: unknown) => Promise<unknown>,
    /** Inside the desktop app: its tray, keep-awake and start-at-login settings apply. */
    readonly desktop: boolean,
  ) {}

  async settings(): Promise<Settings> {
    return SettingsSchema.parse(await this.call('getSettings'));
  }

  async saveSettings(patch: Partial<Settings>): Promise<Settings> {
    return SettingsSchema.parse(await this.call('setSettings', SettingsSchema.partial().strict().parse(patch)));
  }

  async auth(): Promise<AuthStatus> {
    return AuthStatusSchema.parse(await this.call('authStatus'));
  }

  async signIn(acceptWeakStorage = false): Promise<AuthStatus> {
    return AuthStatusSchema.parse(await this.call('signIn', acceptWeakStorage ? { acceptWeakStorage } : {}));
  }

  async cancelSignIn(): Promise<AuthStatus> {
    return AuthStatusSchema.parse(await this.call('cancelSignIn'));
  }

  async signOut(): Promise<AuthStatus> {
    return AuthStatusSchema.parse(await this.call('signOut'));
  }

  async setClient(input: OAuthClientInput): Promise<AuthStatus> {
    return AuthStatusSchema.parse(await this.call('setOAuthClient', OAuthClientInputSchema.parse(input)));
  }

  async listAssets(req: AssetListRequest): Promise<AssetList> {
    return AssetListSchema.parse(await this.call('listAssets', AssetListRequestSchema.parse(req)));
  }

  async deleteAssets(req: AssetDeleteRequest): Promise<AssetDeleteResult> {
    return AssetDeleteResultSchema.parse(await this.call('deleteAssets', AssetDeleteRequestSchema.parse(req)));
  }

  /** `tessera doctor`'s checks: the account's, or an open job's too. */
  async doctor(req: DoctorRequest = {}): Promise<DoctorReport> {
    return DoctorReportSchema.parse(await this.call('runDoctor', DoctorRequestSchema.parse(req)));
  }
}
