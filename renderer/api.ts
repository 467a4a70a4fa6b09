import { CommandSchema, type Command } from '../shared/contract';
import {
  CommandResultSchema, DashboardSnapshotSchema, GridPreviewRequestSchema, GridPreviewSchema, JobSummarySchema, NewJobRequestSchema, NewJobResultSchema, StreamMessageSchema, TileDetailSchema,
  type CommandResult, type DashboardSnapshot, type GridPreview, type GridPreviewRequest, type JobSummary, type NewJobRequest, type NewJobResult, type StreamMessage, type TileDetail,
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

  /** True when the host offers the job wizard. */
  get hasWizard(): boolean {
    return typeof this.transport.wizard === 'function';
  }

  async previewGrid(req: GridPreviewRequest): Promise<GridPreview> {
    if (!this.transport.wizard) throw new Error('this host has no job wizard');
    return GridPreviewSchema.parse(await this.transport.wizard('preview', GridPreviewRequestSchema.parse(req)));
  }

  async createJob(req: NewJobRequest): Promise<NewJobResult> {
    if (!this.transport.wizard) throw new Error('this host has no job wizard');
    return NewJobResultSchema.parse(await this.transport.wizard('create', NewJobRequestSchema.parse(req)));
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
