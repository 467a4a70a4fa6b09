import type { Command } from '../../shared/contract';
import type { InvokeName } from '../../shared/ipc';
import type { ServiceName, WizardName } from './services';
import type { ConnectionState, Transport } from './types';

/**
 * A transport that reaches every channel of shared/ipc.ts by its name (`invoke`): the page's calls are
 * written here once, over whatever carries them — HTTP (http-sse.ts) or the preload (electron.ts).
 */
export abstract class ChannelTransport implements Transport {
  /** Any channel, with its request (checked against the channel's schema on the other side). */
  abstract invoke(name: InvokeName, request?: unknown): Promise<unknown>;

  abstract subscribe(onMessage: (m: unknown) => void, onState: (s: ConnectionState) => void): () => void;

  snapshot(): Promise<unknown> {
    return this.invoke('snapshot');
  }

  compactSnapshot(): Promise<unknown> {
    return this.invoke('compactSnapshot');
  }

  summary(job: string): Promise<unknown> {
    return this.invoke('summary', { job });
  }

  tile(job: string, id: string): Promise<unknown> {
    return this.invoke('tile', { job, id });
  }

  command(cmd: Command): Promise<unknown> {
    return this.invoke('command', cmd);
  }

  wizard(name: WizardName, body: unknown): Promise<unknown> {
    return this.invoke(name, body);
  }

  service(name: ServiceName, body?: unknown): Promise<unknown> {
    return this.invoke(name, body);
  }
}
