import type { Command } from '../../shared/contract';
import type { FileKind } from '../../shared/dashboard';
import { RemoteError } from '../../shared/errors';
import type { ServiceName, WizardName } from './services';

/** Where the stream stands; `unauthorized` is final (the page lacks the token). */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'closed';

/**
 * How the renderer reaches an engine host. Every answer is `unknown`: the client (renderer/api.ts)
 * validates it against the schemas of shared/. Three implementations: HTTP + Server-Sent Events for
 * `tessera serve` (http-sse.ts), in-process for component tests (in-process.ts), and the Electron
 * preload bridge (desktop shell).
 */
export interface Transport {
  snapshot(): Promise<unknown>;
  /** The compact snapshot (shared/compact-view.ts); without it the client loads `snapshot`. */
  compactSnapshot?(): Promise<unknown>;
  summary(job: string): Promise<unknown>;
  tile(job: string, id: string): Promise<unknown>;
  command(cmd: Command): Promise<unknown>;
  /** The job wizard (absent where the host has none), by the names of its channels. */
  wizard?(name: WizardName, body: unknown): Promise<unknown>;
  /** Sends a file's bytes to the host (tessera serve: a page cannot give a path); answers where it is kept. */
  upload?(file: Blob, name: string): Promise<unknown>;
  /** The system's open-file dialog (desktop app): answers `{ path }`, null when cancelled. */
  chooseFile?(kind: FileKind): Promise<unknown>;
  /** Settings, sign-in and assets (absent where the host has none); answers are validated by the client. */
  service?(name: ServiceName, body?: unknown): Promise<unknown>;
  /** A dropped or picked file's path on this computer (the desktop app), undefined when unknown. */
  pathOf?(file: File): string | undefined;
  /** True inside the desktop app (tray, keep-awake and start-at-login settings apply). */
  readonly desktop?: boolean;
  /**
   * Delivers stream messages in order, a `hello` first after every (re)connection; reports the
   * connection's state. Returns the function that ends the subscription.
   */
  subscribe(onMessage: (m: unknown) => void, onState: (s: ConnectionState) => void): () => void;
}

/** The host refused a request (HTTP status or equivalent) with a message meant for the user. */
export class TransportError extends RemoteError {
  constructor(status: number, message: string) {
    super(status, message);
    this.name = 'TransportError';
  }
}
