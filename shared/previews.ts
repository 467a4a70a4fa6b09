/**
 * A unit's quicklook as the dashboards fetch it (docs/previews.md): the PNG as base64, so that one JSON
 * channel carries it over HTTP and IPC alike and the page shows it as a `data:` image (which the page's
 * CSP allows); `png: null` while it is not made yet.
 */
import { z } from 'zod';

/** A journal unit id: a tile id, or `{periodId}@{tileId}` (docs/periods.md). */
export const UnitIdSchema = z.string().regex(/^(?:[A-Za-z0-9-]{1,20}@)?[A-Za-z0-9_-]{1,120}$/, 'a unit id: a tile id, or {periodId}@{tileId}');

export const PreviewRequestSchema = z.object({ job: z.string().regex(/^[A-Za-z0-9-]{1,40}$/), unit: UnitIdSchema }).strict();
export type PreviewRequest = z.infer<typeof PreviewRequestSchema>;

export const PreviewSchema = z.object({ unit: z.string(), png: z.string().max(2_000_000).nullable() });
export type Preview = z.infer<typeof PreviewSchema>;
