/**
 * Browsing Earth Engine assets from the dashboard (the assets panel): the same listing and deletion as
 * `tessera assets ls|rm`, one schema for the request and the answer on every transport.
 */
import { z } from 'zod';

/** `projects/<project>/assets/<path>` — the only names the panel accepts (no legacy `users/…` ids). */
export const AssetNameSchema = z
  .string()
  .trim()
  .transform((s) => s.replace(/\/+$/, ''))
  .pipe(z.string().regex(/^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/assets\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'an asset name such as projects/my-project/assets/folder'));

export const AssetTypeSchema = z.enum(['IMAGE', 'IMAGE_COLLECTION', 'TABLE', 'FOLDER', 'CLASSIFIER', 'FEATURE_VIEW', 'UNKNOWN']);

export const AssetRowSchema = z.object({
  name: z.string(),
  type: AssetTypeSchema,
  sizeBytes: z.number().nonnegative().optional(),
  featureCount: z.number().int().nonnegative().optional(),
  updateTime: z.string().optional(),
  /** Nesting below the listed folder (0 = directly in it), for recursive listings. */
  depth: z.number().int().nonnegative(),
});
export type AssetRow = z.infer<typeof AssetRowSchema>;

/** A folder to list: an asset name, or a project's root (`projects/<project>/assets`). */
export const AssetFolderSchema = z
  .string()
  .trim()
  .transform((s) => s.replace(/\/+$/, ''))
  .pipe(z.string().regex(/^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/assets(\/[A-Za-z0-9_-]+)*$/, 'a folder such as projects/my-project/assets or projects/my-project/assets/tiles'));

export const AssetListRequestSchema = z.object({ folder: AssetFolderSchema, recursive: z.boolean().optional() }).strict();
export type AssetListRequest = z.input<typeof AssetListRequestSchema>;

/** Every asset of the folder (the host follows Earth Engine's pages; the panel pages what it shows). */
export const AssetListSchema = z.object({ folder: z.string(), assets: z.array(AssetRowSchema), truncated: z.boolean() });
export type AssetList = z.infer<typeof AssetListSchema>;

/** Deleting selected assets; a folder or image collection with assets in it needs `recursive`. */
export const AssetDeleteRequestSchema = z.object({ names: z.array(AssetNameSchema).min(1).max(5000), recursive: z.boolean().optional() }).strict();
export type AssetDeleteRequest = z.input<typeof AssetDeleteRequestSchema>;

export const AssetDeleteResultSchema = z.object({ deleted: z.array(z.string()), alreadyGone: z.array(z.string()) });
export type AssetDeleteResult = z.infer<typeof AssetDeleteResultSchema>;
