import type { AssetDeleteResult, AssetRow } from '../../../shared/assets';
import { AssetTypeSchema } from '../../../shared/assets';
import { RequestError, UserError } from '../errors';
import { ASSET_MISSING, EarthEngineError, type EarthEngine, type EeAsset } from './earthengine';

/**
 * Browsing and deleting Earth Engine assets for people (the dashboard's assets panel): a folder listed
 * with every page followed, recursively on request, and deletions that never reach past the named assets.
 */

/** A listing stops here (the panel pages what it shows; a bigger folder is cut short and says so). */
export const MAX_LISTED = 100_000;

const isContainer = (a: Pick<EeAsset, 'type'>) => a.type === 'FOLDER' || a.type === 'IMAGE_COLLECTION';

function row(a: EeAsset, depth: number): AssetRow {
  const type = AssetTypeSchema.safeParse(a.type);
  return {
    name: a.name,
    type: type.success ? type.data : 'UNKNOWN',
    depth,
    ...(a.sizeBytes !== undefined && Number.isFinite(a.sizeBytes) ? { sizeBytes: a.sizeBytes } : {}),
    ...(a.featureCount !== undefined && Number.isFinite(a.featureCount) ? { featureCount: a.featureCount } : {}),
    ...(a.updateTime ? { updateTime: a.updateTime } : {}),
  };
}

/** An EE refusal the user can act on becomes a UserError (HTTP 400 / IPC 400) with EE's own words. */
function userFacing(e: unknown): never {
  if (e instanceof EarthEngineError && !e.transient) throw Object.assign(new UserError(e.message), { status: ASSET_MISSING.test(e.message) ? 404 : 400 });
  throw e;
}

/** The assets under `folder`, depth first, each container followed by its children when `recursive`. */
export async function listFolder(ee: EarthEngine, folder: string, recursive: boolean, limit = MAX_LISTED): Promise<{ assets: AssetRow[]; truncated: boolean }> {
  const out: AssetRow[] = [];
  let truncated = false;
  const visit = async (parent: string, depth: number): Promise<void> => {
    const children = await ee.listAssets(parent).catch(userFacing);
    for (const a of children) {
      if (out.length >= limit) {
        truncated = true;
        return;
      }
      out.push(row(a, depth));
      if (recursive && isContainer(a)) await visit(a.name, depth + 1);
    }
  };
  // A project's root always exists; anything below it is checked first (a missing folder is not "empty").
  if (!/^projects\/[^/]+\/assets$/.test(folder)) {
    const top = await ee.getAsset(folder).catch(userFacing);
    if (!top) throw Object.assign(new UserError(`Asset '${folder}' does not exist or doesn't allow this operation.`), { status: 404 });
    if (!isContainer(top)) throw Object.assign(new UserError(`${folder} is a ${top.type}, not a folder or image collection`), { status: 400 });
  }
  await visit(folder, 0);
  return { assets: out, truncated };
}

/**
 * What deleting the named assets takes: a non-empty folder or image collection is refused unless
 * `recursive` (the refusal ends with `hint`: what the user does to go on), and then only what is listed
 * under it goes, deepest first (listing at most `limit` assets per container). `missing`: named assets
 * that do not exist.
 */
export async function deletionPlan(ee: EarthEngine, names: readonly string[], recursive: boolean, hint = 'confirm deleting them too', limit = MAX_LISTED): Promise<{ plan: string[]; missing: string[] }> {
  const plan: string[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const a = await ee.getAsset(name).catch(userFacing);
    if (!a) {
      missing.push(name);
      continue;
    }
    if (isContainer(a)) {
      const inside = (await listFolder(ee, name, true, limit)).assets;
      if (inside.length && !recursive) throw Object.assign(new UserError(`${name} is a ${a.type} holding ${inside.length} assets: ${hint}`), { status: 409 });
      // Deepest first, and only names under the one given.
      plan.push(...inside.filter((x) => x.name.startsWith(`${name}/`)).sort((x, y) => y.depth - x.depth).map((x) => x.name));
    }
    plan.push(name);
  }
  return { plan: [...new Set(plan)], missing };
}

/**
 * Deletes the named assets as `deletionPlan` says. Assets already gone count as done, so a repeat after
 * an interruption finishes the job.
 */
export async function deleteAssets(ee: EarthEngine, names: string[], recursive: boolean): Promise<AssetDeleteResult> {
  const { plan, missing } = await deletionPlan(ee, names, recursive);
  const r = await deletePlanned(ee, plan);
  return { deleted: r.deleted, alreadyGone: [...missing, ...r.alreadyGone] };
}

/** Deletes the assets of a plan in its order; those already gone are reported, not an error. */
export async function deletePlanned(ee: EarthEngine, plan: readonly string[]): Promise<AssetDeleteResult> {
  const deleted: string[] = [];
  const alreadyGone: string[] = [];
  for (const n of plan) {
    try {
      await ee.deleteAsset(n);
      deleted.push(n);
    } catch (e) {
      if (e instanceof EarthEngineError && ASSET_MISSING.test(e.message)) alreadyGone.push(n);
      else userFacing(e);
    }
  }
  return { deleted, alreadyGone };
}

/** The assets panel's service over a signed-in client (desktop app and `tessera serve` alike). */
export function assetService(earthEngine: () => Promise<EarthEngine>) {
  // Not signed in, or a project Earth Engine refuses: the panel says so instead of "unexpected error".
  const connected = () =>
    earthEngine().catch((e: unknown) => {
      // A refusal that already says what to do (a RequestError or the host's HostError) passes as it is.
      if (e instanceof RequestError) throw e;
      throw new UserError(`Earth Engine cannot be reached for assets: ${(e as Error)?.message ?? String(e)} (check the sign-in and the Earth Engine project in Settings)`);
    });
  return {
    list: async (folder: string, recursive: boolean) => ({ folder, ...(await listFolder(await connected(), folder, recursive)) }),
    remove: async (names: string[], recursive: boolean) => deleteAssets(await connected(), names, recursive),
  };
}
