import type { Command } from '../../shared/contract';
import type { DashboardHostCalls } from '../../shared/dashboard-host';
import type { ServiceName, WizardName } from './services';
import type { ConnectionState, Transport } from './types';

/** What an in-process host offers (the engine host of main/core/engine/host.ts has this shape; so do test fakes). */
export interface InProcessHost extends DashboardHostCalls {
  /** Settings, sign-in and assets, by the names of their IPC channels. */
  service?(name: ServiceName, body?: unknown): Promise<unknown>;
}

/**
 * The transport for component tests (and any host in the same JavaScript realm): calls the host directly,
 * but asynchronously and on copies, as a real boundary would, so components cannot rely on sharing objects.
 */
export class InProcessTransport implements Transport {
  constructor(private readonly host: InProcessHost) {}

  snapshot(): Promise<unknown> {
    return this.call(() => this.host.snapshot());
  }

  get compactSnapshot(): (() => Promise<unknown>) | undefined {
    const host = this.host;
    return host.compactSnapshot ? () => this.call(() => host.compactSnapshot!()) : undefined;
  }

  summary(job: string): Promise<unknown> {
    return this.call(() => this.host.summary(job));
  }

  tile(job: string, id: string): Promise<unknown> {
    return this.call(() => this.host.tile(job, id));
  }

  command(cmd: Command): Promise<unknown> {
    return this.call(() => this.host.command(structuredClone(cmd)));
  }

  wizard(name: WizardName, body: unknown): Promise<unknown> {
    // Each wizard call takes the request body and answers its own result type: the transport passes both on.
    const f = this.host[name] as ((input: unknown) => Promise<unknown>) | undefined;
    if (!f) return Promise.reject(new Error('this host has no job wizard'));
    return this.call(() => f.call(this.host, structuredClone(body)));
  }

  get service(): ((name: ServiceName, body?: unknown) => Promise<unknown>) | undefined {
    const host = this.host;
    return host.service ? (name, body) => this.call(() => host.service!(name, structuredClone(body))) : undefined;
  }

  subscribe(onMessage: (m: unknown) => void, onState: (s: ConnectionState) => void): () => void {
    let open = true;
    const deliver = (m: unknown) => {
      const copy = structuredClone(m);
      queueMicrotask(() => open && onMessage(copy));
    };
    // Nothing can happen between reading the position and subscribing: the hello comes first.
    deliver({ kind: 'hello', seq: this.host.position() });
    const unsubscribe = this.host.subscribe(deliver);
    onState('open');
    return () => {
      open = false;
      unsubscribe();
      onState('closed');
    };
  }

  private async call(f: () => unknown): Promise<unknown> {
    await Promise.resolve();
    return structuredClone(await f());
  }
}
