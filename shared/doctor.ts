import { z } from 'zod';

/**
 * `tessera doctor`'s answer (docs/signin-and-doctor.md#doctor), shared by the CLI's `--json`, `tessera serve` and the
 * desktop app: every check a run needs, each `ok`, `warn` or `fail` with one line that says the fix.
 */
export const DOCTOR_CHECK_IDS = ['credentials', 'scopes', 'earthengine', 'drive', 'folder', 'output', 'clock'] as const;
export type DoctorCheckId = (typeof DOCTOR_CHECK_IDS)[number];

export const DoctorCheckSchema = z.object({
  id: z.enum(DOCTOR_CHECK_IDS),
  status: z.enum(['ok', 'warn', 'fail']),
  message: z.string(),
});
export type DoctorCheck = z.infer<typeof DoctorCheckSchema>;

export const DoctorReportSchema = z.object({ checks: z.array(DoctorCheckSchema) });
export type DoctorReport = z.infer<typeof DoctorReportSchema>;

/** What the dashboards ask: the account checks, or those and the checks of one open job (by name). */
export const DoctorRequestSchema = z.object({ job: z.string().regex(/^[A-Za-z0-9-]{1,40}$/).optional() }).strict();
export type DoctorRequest = z.infer<typeof DoctorRequestSchema>;
