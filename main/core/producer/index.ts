import type { Job } from '../job/job-file';
import { batchExportProducer } from './batch-export';
import { autoProducer, directProducer } from './direct';
import type { Producer, ProducerContext, ProducerFactory, ProducerMode } from './port';

export type * from './port';

/**
 * The producers, by the job's `mode` (docs/ARCHITECTURE.md, "Adding a producer"). A new producer is one
 * module implementing `Producer` (port.ts) and one line here; the runner does not change.
 */
const PRODUCERS: Partial<Record<ProducerMode, ProducerFactory>> = {
  export: batchExportProducer,
  direct: directProducer,
  auto: autoProducer,
};

/** The job's production mode (`export` unless the job file says otherwise). */
export function producerMode(job: Job): ProducerMode {
  return job.mode ?? 'export';
}

export function createProducer(ctx: ProducerContext): Producer {
  const mode = producerMode(ctx.job);
  const make = PRODUCERS[mode];
  if (!make) throw new Error(`no producer is registered for mode "${mode}"`);
  return make(ctx);
}
