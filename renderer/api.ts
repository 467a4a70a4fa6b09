import { CommandSchema, type Command } from '../shared/contract';
import {
  CommandResultSchema, DashboardSnapshotSchema, GridPreviewRequestSchema, GridPreviewSchema, JobSummarySchema, NewJobRequestSchema, NewJobResultSchema, StreamMessageSchema, TileDetailSchema,
  RecipeCheckRequestSchema, RecipeCheckSchema, UploadResultSchema, type RecipeCheck, type RecipeCheckRequest, type UploadResult,
  type CommandResult, type DashboardSnapshot, type FileKind, type GridPreview, type GridPreviewRequest, type JobSummary, type NewJobRequest, type NewJobResult, type StreamMessage, type TileDetail,
} from '../shared/dashboard';
import { PreviewRequestSchema, PreviewSchema } from '../shared/previews';
import { CompactSnapshotSchema, type CompactSnapshot } from '../shared/compact-view';
import { ServicesClient } from './services-client';
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

  /**
   * Every job, each regular grid as one state byte per unit (shared/compact-view.ts); from a transport
   * without the channel, the snapshot of objects in the same shape.
   */
  async compactSnapshot(): Promise<CompactSnapshot> {
    const t = this.transport;
    const objects = async (): Promise<CompactSnapshot> => {
      const s = await this.snapshot();
      return { seq: s.seq, jobs: s.jobs.map((j) => ({ ...j, grid: null })) };
    };
    if (typeof t.compactSnapshot !== 'function') return objects();
    let raw: unknown;
    try {
      raw = await t.compactSnapshot();
    } catch (e) {
      // A host from before the channel (404): its snapshot of objects.
      if ((e as { status?: unknown }).status === 404) return objects();
      throw e;
    }
    return CompactSnapshotSchema.parse(raw);
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

  private servicesClient: ServicesClient | undefined;

  /** Settings, sign-in and the assets panel, when the host has them. */
  get services(): ServicesClient | undefined {
    const t = this.transport;
    if (typeof t.service !== 'function') return undefined;
    this.servicesClient ??= new ServicesClient((name, body) => t.service!(name, body), t.desktop === true);
    return this.servicesClient;
  }

  /** A dropped or picked file's path on this computer, when the host can tell it (the desktop app). */
  pathOf(file: File): string | undefined {
    return this.transport.pathOf?.(file);
  }

  /** True when the host offers the job wizard. */
  get hasWizard(): boolean {
    return typeof this.transport.wizard === 'function';
  }

  async previewGrid(req: GridPreviewRequest): Promise<GridPreview> {
    if (!this.transport.wizard) throw new Error('this host has no job wizard');
    return GridPreviewSchema.parse(await this.transport.wizard('previewGrid', GridPreviewRequestSchema.parse(req)));
  }

  async createJob(req: NewJobRequest): Promise<NewJobResult> {
    if (!this.transport.wizard) throw new Error('this host has no job wizard');
    return NewJobResultSchema.parse(await this.transport.wizard('createJob', NewJobRequestSchema.parse(req)));
  }

  async checkRecipe(req: RecipeCheckRequest): Promise<RecipeCheck> {
    if (!this.transport.wizard) throw new Error('this host has no job wizard');
    return RecipeCheckSchema.parse(await this.transport.wizard('checkRecipe', RecipeCheckRequestSchema.parse(req)));
  }

  /** True when files are sent to the host (tessera serve); the desktop app gives paths instead. */
  get canUpload(): boolean {
    return typeof this.transport.upload === 'function';
  }

  async upload(file: Blob, name: string): Promise<UploadResult> {
    if (!this.transport.upload) throw new Error('this host takes paths, not files');
    return UploadResultSchema.parse(await this.transport.upload(file, name));
  }

  /** True when the host has a file dialog (the desktop app). */
  get canChooseFile(): boolean {
    return typeof this.transport.chooseFile === 'function';
  }

  /** The path the user chose in the system's dialog, or null. */
  async chooseFile(kind: FileKind): Promise<string | null> {
    if (!this.transport.chooseFile) throw new Error('this host has no file dialog');
    const r = (await this.transport.chooseFile(kind)) as { path?: unknown } | undefined;
    return typeof r?.path === 'string' ? r.path : null;
  }

  /**
   * A finished unit's quicklook as a `data:` URL (docs/previews.md), or null while it is not made or where
   * the host has none. The channel is carried like the other routed ones (shared/ipc.ts `preview`).
   */
  async preview(job: string, unit: string): Promise<string | null> {
    const t = this.transport;
    if (typeof t.service !== 'function') return null;
    const p = PreviewSchema.parse(await t.service('preview', PreviewRequestSchema.parse({ job, unit })));
    return p.png === null ? null : `data:image/png;base64,${p.png}`;
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
