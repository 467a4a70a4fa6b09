import type { DoctorReport } from '../../../shared/doctor';
import type { JobHost } from '../engine/host';
import type { GoogleEndpoints } from '../google/session';
import { runDoctor } from './doctor';

/**
 * The dashboards' `doctor` service (`tessera serve` and the desktop app): the same checks as
 * `tessera doctor`, signed in as the host's jobs are and over the host's Earth Engine client (one per
 * process). Without a job name only the account checks run; with one, that open job's checks too.
 */
export function doctorService(host: Pick<JobHost, 'jobOf' | 'signedInSession' | 'earthEngine'>, endpoints: () => GoogleEndpoints) {
  return {
    run: async (jobName?: string): Promise<DoctorReport> => {
      const job = jobName === undefined ? undefined : host.jobOf(jobName);
      return runDoctor({
        session: () => host.signedInSession(job?.project),
        earthEngine: () => host.earthEngine(),
        endpoints: endpoints(),
        ...(job ? { job } : {}),
      });
    },
  };
}
