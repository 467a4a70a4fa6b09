import { CommandSchema, type Command } from '../shared/contract';
import {
  CommandResultSchema, DashboardSnapshotSchema, JobSummarySchema, StreamMessageSchema, TileDetailSchema,
  type CommandResult, type DashboardSnapshot, type JobSummary, type StreamMessage, type TileDetail,
} from '../shared/dashboard';
import type { ConnectionState, Transport } from './transport/types';

/**
 * The renderer's one API to the engine, whatever carries it: every answer and every stream message is
 * validated against shared/ before the UI sees it, and every command before it leaves.
 */
export class TesseraClient {
  constructor(private readonly transport: Transport) {}

  async snapshot(): Promise<DashboardSnapshot> {
    return DashboardSnapshotSchema.parse(await this.transport.snapshot());
  }

  async summary(job: string): Promise<JobSummary> {
    return JobSummarySchema.parse(await this.transport.summary(job));
  }

  async tile(job: string, id: string): Promise<TileDetail> {
    return TileDetailSchema.parse(await this.transport.tile(job, id));
  }

  async command(cmd: Command): Promise<CommandResult> {
    return CommandResultSchema.parse(await this.transport.command(CommandSchema.parse(cmd)));
  }

  /** Valid messages only (an invalid one is dropped with a console warning). */
  subscribe(onMessage: (m: StreamMessage) => void, onState: (s: ConnectionState) => void): () => void {
    return this.transport.subscribe((raw) => {
      const r = StreamMessageSchema.safeParse(raw);
      if (r.success) onMessage(r.data);
      else console.warn('tessera: dropped an invalid stream message', r.error.issues[0]);
    }, onState);
  }
}
