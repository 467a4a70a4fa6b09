/**
 * The one typed contract for every IPC channel of the desktop app (Podman / GitHub Desktop style): each
 * invoke channel names its request and response schemas, each event channel its payload schema, all
 * derived from shared/contract.ts and shared/dashboard.ts. The main side registers handlers with
 * `registerHandlers` (sender checked, every payload parsed); the preload builds the renderer's API with
 * `createPreloadApi` (no `ipcRenderer` ever reaches the page). No Electron import here: both functions take
 * Electron-shaped objects, so tests drive them with fakes in plain Node.
 */
import { z } from 'zod';
import { CommandSchema } from './contract';
import {
  CommandResultSchema, DashboardSnapshotSchema, GridPreviewRequestSchema, GridPreviewSchema, JobSummarySchema, NewJobRequestSchema, NewJobResultSchema, StreamMessageSchema, TileDetailSchema,
  ChooseFileRequestSchema, RecipeCheckRequestSchema, RecipeCheckSchema,
} from './dashboard';
import { AssetDeleteRequestSchema, AssetDeleteResultSchema, AssetListRequestSchema, AssetListSchema } from './assets';
import { AuthStatusSchema, OAuthClientInputSchema, SettingsSchema } from './settings';
import { DoctorReportSchema, DoctorRequestSchema } from './doctor';
import { PreviewRequestSchema, PreviewSchema } from './previews';
import { CompactSnapshotSchema } from './compact-view';
import { invalidRequest, refusalOf, RemoteError, type Refusal } from './errors';

const JobName = z.string().regex(/^[A-Za-z0-9-]{1,40}$/);
/** The request of a channel that takes none (HTTP: any body is ignored). */
export const NO_REQUEST = z.undefined();
const Nothing = NO_REQUEST;

/**
 * How `tessera serve` carries a channel (main/server/http-routes.ts builds its routes from this; the
 * renderer's HTTP transport its requests): `METHOD /api/path`, `:name` segments filled from the request's
 * fields (GET), other requests sent as the JSON body; `stream`: carried by the Server-Sent Events stream;
 * `none`: why a browser page has no use for it (desktop only). Every channel must say one of the three.
 */
export type HttpBinding = `${'GET' | 'POST' | 'PUT'} /api/${string}` | { readonly stream: `GET /api/${string}` } | { readonly none: string };

interface ChannelSpec {
  readonly channel: `tessera:${string}`;
  readonly http: HttpBinding;
  readonly request: z.ZodType;
  readonly response: z.ZodType;
}

export { AuthStatusSchema, SettingsSchema, type AuthStatus, type Settings } from './settings';

/** Every invoke channel: name, IPC channel, HTTP binding, request schema, response schema — the one transport contract. */
export const INVOKE_CHANNELS = {
  snapshot: { channel: 'tessera:snapshot', http: 'GET /api/snapshot', request: Nothing, response: DashboardSnapshotSchema },
  /** The same jobs with each regular grid as its parameters and one state byte per unit (shared/compact-view.ts): what the dashboard loads. */
  compactSnapshot: { channel: 'tessera:snapshot:compact', http: 'GET /api/snapshot/compact', request: Nothing, response: CompactSnapshotSchema },
  summary: { channel: 'tessera:summary', http: 'GET /api/jobs/:job/summary', request: z.object({ job: JobName }).strict(), response: JobSummarySchema },
  tile: { channel: 'tessera:tile', http: 'GET /api/jobs/:job/tiles/:id', request: z.object({ job: JobName, id: z.string().min(1).max(200) }).strict(), response: TileDetailSchema },
  command: { channel: 'tessera:command', http: 'POST /api/command', request: CommandSchema, response: CommandResultSchema },
  /** Starts (or restarts) this window's event stream; answers the stream position (the `hello`). */
  subscribe: { channel: 'tessera:subscribe', http: { stream: 'GET /api/events' }, request: Nothing, response: z.object({ seq: z.number().int().nonnegative() }) },
  unsubscribe: { channel: 'tessera:unsubscribe', http: { stream: 'GET /api/events' }, request: Nothing, response: z.object({ ok: z.literal(true) }) },
  getSettings: { channel: 'tessera:settings:get', http: 'GET /api/settings', request: Nothing, response: SettingsSchema },
  setSettings: { channel: 'tessera:settings:set', http: 'PUT /api/settings', request: SettingsSchema.partial().strict(), response: SettingsSchema },
  authStatus: { channel: 'tessera:auth:status', http: 'GET /api/auth', request: Nothing, response: AuthStatusSchema },
  /** `acceptWeakStorage`: the user agreed to keep the sign-in without a secret service (Linux basic_text). */
  signIn: { channel: 'tessera:auth:sign-in', http: 'POST /api/auth/sign-in', request: z.object({ acceptWeakStorage: z.boolean().optional() }).strict(), response: AuthStatusSchema },
  signOut: { channel: 'tessera:auth:sign-out', http: 'POST /api/auth/sign-out', request: Nothing, response: AuthStatusSchema },
  /** Gives up a sign-in that waits for the browser (its loopback port closes). */
  cancelSignIn: { channel: 'tessera:auth:cancel', http: 'POST /api/auth/cancel', request: Nothing, response: AuthStatusSchema },
  /** The OAuth client to sign in with (its secret is stored, never answered). */
  setOAuthClient: { channel: 'tessera:auth:client', http: 'PUT /api/auth/client', request: OAuthClientInputSchema, response: AuthStatusSchema },
  /** The assets panel: a folder listed (every page, recursive on request), and deletions with confirmation. */
  listAssets: { channel: 'tessera:assets:list', http: 'POST /api/assets/list', request: AssetListRequestSchema, response: AssetListSchema },
  deleteAssets: { channel: 'tessera:assets:delete', http: 'POST /api/assets/delete', request: AssetDeleteRequestSchema, response: AssetDeleteResultSchema },
  /** `tessera doctor`'s checks: the account's, and an open job's with `job` (the wizard before it starts a job, Settings). */
  runDoctor: { channel: 'tessera:doctor', http: 'POST /api/doctor', request: DoctorRequestSchema, response: DoctorReportSchema },
  /** Opens a link in the system browser; only the https URLs the main side allows (sign-in, docs). */
  openExternal: { channel: 'tessera:open-external', http: { none: 'a browser page opens links itself' }, request: z.object({ url: z.string().max(2048) }).strict(), response: z.object({ opened: z.boolean() }) },
  /** The job wizard: the grid of an ROI (layers, tile count, estimates, outlines), and a new job written, added and started. */
  previewGrid: { channel: 'tessera:wizard:preview', http: 'POST /api/wizard/preview', request: GridPreviewRequestSchema, response: GridPreviewSchema },
  createJob: { channel: 'tessera:wizard:create', http: 'POST /api/wizard/jobs', request: NewJobRequestSchema, response: NewJobResultSchema },
  /** The wizard's recipe field, checked as `tessera recipes check` does (first tile built, nothing exported). */
  checkRecipe: { channel: 'tessera:wizard:check-recipe', http: 'POST /api/wizard/recipe-check', request: RecipeCheckRequestSchema, response: RecipeCheckSchema },
  /** The system's open-file dialog for the wizard (ROI or recipe file): the chosen path, or null when cancelled. */
  chooseFile: { channel: 'tessera:wizard:choose-file', http: { none: 'a page cannot open the system dialog: it sends the file (POST /api/wizard/upload)' }, request: ChooseFileRequestSchema, response: z.object({ path: z.string().nullable() }) },
  /** A finished unit's quicklook (docs/previews.md): base64 PNG, or null while it is being made. */
  preview: { channel: 'tessera:preview', http: 'GET /api/jobs/:job/previews/:unit', request: PreviewRequestSchema, response: PreviewSchema },
} as const satisfies Record<string, ChannelSpec>;

/** Every event channel (main → renderer). */
export const EVENT_CHANNELS = {
  stream: { channel: 'tessera:stream', payload: StreamMessageSchema },
} as const;

export type InvokeName = keyof typeof INVOKE_CHANNELS;
export type InvokeRequest<N extends InvokeName> = z.infer<(typeof INVOKE_CHANNELS)[N]['request']>;
export type InvokeResponse<N extends InvokeName> = z.infer<(typeof INVOKE_CHANNELS)[N]['response']>;
export type EventName = keyof typeof EVENT_CHANNELS;
export type EventPayload<N extends EventName> = z.infer<(typeof EVENT_CHANNELS)[N]['payload']>;

export const INVOKE_NAMES = Object.keys(INVOKE_CHANNELS) as InvokeName[];

/**
 * What crosses the wire for every invoke: never a thrown Error (Electron flattens those to a string with
 * "Error invoking remote method …"), always this envelope. `status` mirrors HTTP: 400 bad payload,
 * 403 wrong sender, 404 unknown job/tile, 409 conflict, 500 unexpected.
 */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: { status: number; message: string } };
export const IpcErrorSchema = z.object({ ok: z.literal(false), error: z.object({ status: z.number().int(), message: z.string() }) });

// ---- main side ---------------------------------------------------------------------------------------

/** The parts of an Electron `IpcMainInvokeEvent` the host looks at. */
export interface IpcInvokeEventLike {
  /** The frame that sent the message (null when it navigated away or was destroyed). */
  senderFrame?: { url: string } | null;
  /** The webContents that sent it (where the event stream goes). */
  sender?: unknown;
}

/** The parts of `ipcMain` the host uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, payload: unknown) => unknown): void;
  removeHandler(channel: string): void;
}

export type InvokeHandlers = {
  [N in InvokeName]: (request: InvokeRequest<N>, event: IpcInvokeEventLike) => InvokeResponse<N> | Promise<InvokeResponse<N>>;
};

export interface HandlerHost {
  ipc: IpcMainLike;
  /** True when the sender frame may use the API (the app's own origin, top frame). */
  trustSender(event: IpcInvokeEventLike): boolean;
  /** Told about every refused or failed call (logging). */
  onError?(channel: string, status: number, message: string): void;
}

/**
 * Registers one handler per invoke channel. Each call: sender checked (403), payload parsed with the
 * channel's schema (400 with zod's message), handler run; errors are mapped by `refusalOf`
 * (shared/errors.ts: a 4xx `status` kept, anything else 500). Never throws across IPC. Returns the
 * function that removes the handlers.
 */
export function registerHandlers(handlers: InvokeHandlers, host: HandlerHost): () => void {
  for (const name of INVOKE_NAMES) {
    const { channel, request } = INVOKE_CHANNELS[name];
    const handler = handlers[name] as (req: unknown, event: IpcInvokeEventLike) => unknown;
    host.ipc.handle(channel, async (event, payload): Promise<IpcResult<unknown>> => {
      const fail = ({ status, message }: Refusal): IpcResult<unknown> => {
        host.onError?.(channel, status, message);
        return { ok: false, error: { status, message } };
      };
      let trusted = false;
      try {
        trusted = host.trustSender(event);
      } catch {
        trusted = false;
      }
      if (!trusted) return fail({ status: 403, message: `${channel}: refused, the sender is not the Tessera window` });
      const parsed = request.safeParse(payload);
      if (!parsed.success) return fail(invalidRequest(channel, z.prettifyError(parsed.error)));
      try {
        return { ok: true, value: await handler(parsed.data, event) };
      } catch (e) {
        return fail(refusalOf(e, channel));
      }
    });
  }
  return () => {
    for (const name of INVOKE_NAMES) host.ipc.removeHandler(INVOKE_CHANNELS[name].channel);
  };
}

/**
 * The sender check for the app's window: the frame's URL must parse and have the app's origin (compared
 * as origins, never with startsWith). Pass the top frame's URL only (`event.senderFrame`).
 */
export function senderFromOrigin(appOrigin: string): (event: IpcInvokeEventLike) => boolean {
  return (event) => {
    const url = event.senderFrame?.url;
    if (!url) return false;
    try {
      const u = new URL(url);
      // Custom schemes (tessera://app) have an opaque origin ("null") in WHATWG URL: compare scheme + host.
      return `${u.protocol}//${u.host}` === appOrigin;
    } catch {
      return false;
    }
  };
}

// ---- preload side --------------------------------------------------------------------------------------

/** The parts of `ipcRenderer` the preload uses (it never leaves the preload). */
export interface IpcRendererLike {
  invoke(channel: string, payload: unknown): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}

/** Raised by `unwrap` for a refused call: the main side's status and message. */
export class IpcCallError extends RemoteError {
  constructor(status: number, message: string) {
    super(status, message);
    this.name = 'IpcCallError';
  }
}

/** The value of an answer, or an `IpcCallError` with its status (used in the page, after the bridge). */
export function unwrap<T>(result: IpcResult<T>): T {
  if (result && result.ok === true) return result.value;
  if (result && result.ok === false) throw new IpcCallError(result.error.status, result.error.message);
  throw new IpcCallError(500, 'no answer from the main process');
}

type ApiCall<N extends InvokeName> = InvokeRequest<N> extends undefined
  ? () => Promise<IpcResult<InvokeResponse<N>>>
  : (request: InvokeRequest<N>) => Promise<IpcResult<InvokeResponse<N>>>;

/**
 * What the preload exposes as `window.tessera`: one method per invoke channel, answering the envelope
 * (`contextBridge` keeps only the message of an Error, so refusals travel as data, status included), and
 * `onStream`.
 */
export type TesseraApi = { [N in InvokeName]: ApiCall<N> } & {
  /** Listens to the event stream; the IPC event object (which reaches `sender`) is dropped. Returns the unsubscribe function. */
  onStream(listener: (message: unknown) => void): () => void;
  /**
   * The path of a file the user dropped or picked in the page (Electron's `webUtils.getPathForFile`, run in
   * the preload; `File.path` is gone since Electron 32): '' when the file has none. No IPC involved.
   */
  pathForFile?(file: unknown): string;
};

/**
 * Builds the renderer's API over an `ipcRenderer`-like object. Requests are checked against the channel's
 * schema before they leave (a bad call is refused in the page with a 400 and zod's message); answers are the
 * envelope, unwrapped in the page (`unwrap`). Answer values are validated by the renderer's client.
 */
export function createPreloadApi(ipc: IpcRendererLike): TesseraApi {
  const api: Record<string, unknown> = {};
  for (const name of INVOKE_NAMES) {
    const { channel, request } = INVOKE_CHANNELS[name];
    api[name] = async (payload?: unknown) => {
      const parsed = request.safeParse(payload);
      if (!parsed.success) return { ok: false, error: invalidRequest(channel, z.prettifyError(parsed.error)) };
      const answer = (await ipc.invoke(channel, parsed.data)) as IpcResult<unknown> | undefined;
      if (answer && (answer.ok === true || answer.ok === false)) return answer;
      return { ok: false, error: { status: 500, message: `${channel}: no answer from the main process` } };
    };
  }
  api.onStream = (listener: (message: unknown) => void) => {
    const wrapped = (_event: unknown, payload: unknown) => listener(payload);
    ipc.on(EVENT_CHANNELS.stream.channel, wrapped);
    return () => {
      ipc.removeListener(EVENT_CHANNELS.stream.channel, wrapped);
    };
  };
  return api as TesseraApi;
}
