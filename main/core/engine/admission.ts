import type { Job } from '../job/job-file';
import type { Admission, Destination, UnitRecord } from '../destination/port';
import { budgetAllows } from './estimates';

/** What the gates see of the run when one more unit asks to be sent. */
export interface AdmissionView {
  /** EECU-seconds used by the units exported so far, and how many those are. */
  eecuUsed: number;
  exported: number;
  /** Units in flight (those sent earlier in this cycle included) and their estimated output bytes. */
  inFlight: number;
  inFlightBytes: number;
  /** The unit's estimated output bytes. */
  bytes: number;
}

/**
 * The admission gates, in order: the job's EECU budget, then the destination's room (Drive's free space,
 * the project's asset count…). The first gate that says no decides; a closed gate holds back every unit
 * after it this cycle.
 */
export class AdmissionGates {
  constructor(
    private readonly job: Job,
    private readonly destination: Destination,
  ) {}

  async admit(unit: UnitRecord, v: AdmissionView): Promise<Admission> {
    if (!budgetAllows(v.eecuUsed, v.exported, v.inFlight, this.job.eecuBudgetHours)) {
      return { ok: false, wait: 'budget', stuck: `the EECU budget of ${this.job.eecuBudgetHours} h would be exceeded by the next tile; raise eecuBudgetHours to go on` };
    }
    return this.destination.admit(unit, v.bytes, v.inFlightBytes);
  }
}
