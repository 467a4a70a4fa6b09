import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join } from 'node:path';
import {
  GridPreviewRequestSchema, NewJobRequestSchema, RecipeCheckRequestSchema, UPLOAD_EXTENSIONS, UPLOAD_MAX_BYTES,
  type GridPreview, type NewJobResult, type RecipeCheck, type UploadResult,
} from '../../../shared/dashboard';
import { maxPixelsProblem, maxPixelsSent } from '../../../shared/estimate';
import { commitFile, syncDir, writeFileAtomic } from '../../common/atomic-write';
import { UserError } from '../errors';
import { resolveCrs } from '../geo/crs';
import { buildGrid } from '../grid';
import { parseJob } from '../job/job-file';
import { loadRoi } from '../roi';
import { checkRecipe } from '../recipes/check';
import type { Connection } from './connections';
import { HostError } from './host-error';
import { outline, roiLayers } from './map-geometry';

/** Why the wizard refuses a custom recipe when they are off. */
export const CUSTOM_RECIPES_OFF = 'custom recipe files are off in this tessera serve: restart it with --allow-custom-recipes to use them (README, "Security"); presets work without it';

export interface WizardDeps {
  allowCustomRecipes: boolean;
  uploadsDir: string | undefined;
  connection(project: string | undefined): Promise<Connection>;
  /** A job of this name is open in the host. */
  has(name: string): boolean;
  /** Opens the job file in the host (as `JobHost.add`) and answers its name. */
  add(file: string): Promise<string>;
  start(name: string): void;
}

/**
 * The job wizard's services (the grid preview, the recipe check, uploads, the new job), for the host's
 * dashboards. Bad input is a HostError with one line.
 */
export class WizardServices {
  constructor(private readonly d: WizardDeps) {}

  /**
   * The job wizard's live preview: the layers of the ROI file, the grid's tile count, pixel and byte
   * estimates and the first tiles' outlines, computed by the same grid code as `tessera grid`.
   * Bad input is a HostError 400 with one line.
   */
  async previewGrid(input: unknown): Promise<GridPreview> {
    const parsed = GridPreviewRequestSchema.safeParse(input);
    if (!parsed.success) throw new HostError(400, `invalid grid preview: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    const req = parsed.data;
    if (!isAbsolute(req.roi.path)) throw new HostError(400, 'give the ROI file as an absolute path');
    try {
      const layers = await roiLayers(req.roi.path);
      // Several layers and none chosen yet: preview the first polygon layer (the form offers the others).
      const layer = req.roi.layer ?? (layers.length > 1 ? (layers.find((l) => /POLYGON/i.test(l.geometryType)) ?? layers[0])?.name : undefined);
      const roi = await loadRoi(req.roi.path, { layer });
      const grid = buildGrid(roi, { crs: resolveCrs(req.grid.crs), scale: req.grid.scale, tilePixels: req.grid.tilePixels }, { bands: req.bands, dataType: req.dataType });
      // What the runner sends: export.maxPixels when set, else each tile's own pixel count (shared/estimate.ts).
      const maxPixels = maxPixelsSent(grid.estimate.pixelsPerTile, req.maxPixels);
      const e = grid.estimate;
      return {
        layers,
        layer: roi.layer,
        tiles: grid.tiles.length,
        pixelsPerTile: e.pixelsPerTile,
        bytesPerTile: e.bytesPerTile,
        totalPixels: e.totalPixels,
        totalBytes: e.totalBytes,
        maxPixels,
        overMaxPixels: maxPixelsProblem(e.pixelsPerTile, req.maxPixels) !== undefined,
        warnings: [...roi.warnings, ...grid.warnings],
        preview: grid.tiles.slice(0, 5000).map((t) => outline(t)).filter((r) => r.length >= 6),
      };
    } catch (e) {
      if (e instanceof UserError) throw new HostError(400, e.message);
      throw e;
    }
  }

  /**
   * The job wizard's result: validates the request (the same schema as the form), checks the job as
   * `tessera run` would, writes the job file (never over an existing one), adds the job and starts it.
   */
  async createJob(input: unknown): Promise<NewJobResult> {
    const parsed = NewJobRequestSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new HostError(400, `${issue.path.join('.')}: ${issue.message}`);
    }
    const { file, job, start } = parsed.data;
    if (job.recipe && 'file' in job.recipe && !this.d.allowCustomRecipes) throw new HostError(403, CUSTOM_RECIPES_OFF);
    if (!isAbsolute(file)) throw new HostError(400, 'file: give where to save the job file as an absolute path');
    if (this.d.has(job.name)) throw new HostError(409, `a job named "${job.name}" is already open here`);
    try {
      parseJob(JSON.parse(JSON.stringify(job)), file);
    } catch (e) {
      if (e instanceof UserError) throw new HostError(400, e.message);
      throw e;
    }
    await mkdir(dirname(file), { recursive: true });
    try {
      await writeFileAtomic(file, JSON.stringify(job, null, 2) + '\n', { exclusive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new HostError(409, `${file} exists already; choose another file`);
      throw e;
    }
    let name: string;
    try {
      name = await this.d.add(file);
    } catch (e) {
      if (e instanceof UserError) throw new HostError(e.exitCode === 3 ? 409 : 400, e.message);
      throw e;
    }
    if (start) this.d.start(name);
    return { ok: true, name, file };
  }

  /**
   * The wizard's recipe field: builds the recipe for the first tile of the ROI and grid without exporting,
   * with the logic of `tessera recipes check` (checkRecipe). A recipe that does not build answers
   * `{ ok: false, message }` (the file's line included); a malformed request is a HostError 400.
   */
  async checkRecipe(input: unknown): Promise<RecipeCheck> {
    const parsed = RecipeCheckRequestSchema.safeParse(input);
    if (!parsed.success) throw new HostError(400, `invalid recipe check: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    const req = parsed.data;
    if (!isAbsolute(req.roi.path)) throw new HostError(400, 'give the ROI file as an absolute path');
    if ('file' in req.recipe && !this.d.allowCustomRecipes) return { ok: false, message: CUSTOM_RECIPES_OFF };
    if ('file' in req.recipe && !isAbsolute(req.recipe.file)) return { ok: false, message: 'give the recipe file as an absolute path' };
    try {
      const base = this.d.uploadsDir ?? dirname(req.roi.path);
      const job = parseJob({ name: 'recipe-check', roi: req.roi, grid: req.grid, drive: { folder: 'tessera-recipe-check' }, output: join(base, '.recipe-check'), recipe: req.recipe }, join(base, 'recipe-check.json'));
      if ('file' in req.recipe) await stat(req.recipe.file).catch(() => {
        throw new UserError(`no recipe file at ${req.recipe && 'file' in req.recipe ? req.recipe.file : ''}`);
      });
      const c = await this.d.connection(job.project);
      const r = await checkRecipe(job, { connection: () => c.eeConnection, compute: (make) => c.ee.compute(make) });
      return { ok: true, ...r };
    } catch (e) {
      if (e instanceof UserError) return { ok: false, message: e.message };
      throw e;
    }
  }

  /**
   * A file sent from a browser for the wizard (tessera serve cannot learn a path from a page): kept as
   * `<uploadsDir>/<sha-256 prefix>/<sanitised name>` — the name reduced to letters, digits, `.`, `-` and
   * `_` (never a folder), the content-addressed folder so an upload never replaces another one (a job's
   * fingerprint covers its ROI file). At most UPLOAD_MAX_BYTES (413 beyond). Answers the stored path.
   */
  async saveUpload(name: string, body: AsyncIterable<Uint8Array>): Promise<UploadResult> {
    const dir = this.d.uploadsDir;
    if (!dir) throw new HostError(404, 'this host keeps no uploads: give the file as a path');
    const safe = uploadName(name);
    if (/\.js$/i.test(safe) && !this.d.allowCustomRecipes) throw new HostError(403, CUSTOM_RECIPES_OFF);
    // Private: what a user sends may be unpublished data (files 0600, folders 0700; docs/security.md).
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.incoming-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
    // A write error (disk full, permissions) at any moment is kept and thrown here, never left unhandled.
    let failed: Error | undefined;
    out.on('error', (e) => (failed ??= e));
    try {
      for await (const chunk of body) {
        if (failed) throw failed;
        size += chunk.length;
        if (size > UPLOAD_MAX_BYTES) throw new HostError(413, `${safe} is larger than ${UPLOAD_MAX_BYTES / 1024 ** 2} MB`);
        hash.update(chunk);
        // events.once takes its listeners off again (a listener per wait would pile up on a big upload).
        if (!out.write(chunk)) await once(out, 'drain');
      }
      if (failed) throw failed;
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      const folder = join(dir, hash.digest('hex').slice(0, 16));
      const path = join(folder, safe);
      const madeFolder = await mkdir(folder, { recursive: true, mode: 0o700 });
      const existing = await stat(path).catch(() => undefined);
      if (existing) await rm(temp, { force: true });
      else await commitFile(temp, path);
      // A new content folder's own name must outlive a power cut too, or the kept path would vanish.
      if (madeFolder) await syncDir(dir);
      return { ok: true, path, name: safe, size };
    } catch (e) {
      out.destroy();
      await rm(temp, { force: true }).catch(() => undefined);
      throw e;
    }
  }
}

/**
 * An uploaded file's name as stored: its last path part, reduced to letters, digits, `.`, `-` and `_`, no
 * leading dot, at most 100 characters, with one of the wizard's extensions (else a HostError 400).
 */
export function uploadName(raw: string): string {
  const last = raw.split(/[\\/]/).pop() ?? '';
  const ext = extname(last).toLowerCase();
  if (!(UPLOAD_EXTENSIONS as readonly string[]).includes(ext)) throw new HostError(400, `send a ${UPLOAD_EXTENSIONS.join(', ')} file, not "${last.slice(0, 80)}"`);
  let stem = last.slice(0, last.length - ext.length).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 100 - ext.length);
  if (!stem) stem = 'upload';
  return `${stem}${ext}`;
}
