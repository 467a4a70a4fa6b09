import type { JobSummary } from '../../shared/dashboard';
import { bucketGaugeText } from '../bucket-gauge';
import { formatBytes } from '../format';

interface Props {
  bucket: { bucket: string; prefix: string };
  /** This job's objects: listed ones exactly, not yet listed ones estimated (the summary's `drive` part). */
  objects: JobSummary['drive'] | null;
}

/**
 * A Cloud Storage job's place of the Drive gauge (docs/cloud-storage.md): a bucket has no storage quota
 * the engine could read, so it shows what this job keeps there now — its outputs waiting to be downloaded
 * and cleaned up — and what it has already downloaded. `role=meter` without a maximum, "unlimited".
 */
export function BucketGauge({ bucket, objects }: Props) {
  const t = bucketGaugeText(bucket, objects);
  return (
    <section className="panel gauge" aria-label="Cloud Storage usage">
      <h2>
        {t.title} <span className="gauge-label">{t.label}</span>
      </h2>
      <div className="meter unlimited" role="meter" aria-label="Cloud Storage used by this job" aria-valuemin={0} aria-valuenow={t.waitingBytes} aria-valuetext={`${formatBytes(t.waitingBytes)} · unlimited`}>
        <span className="seg pending" style={{ width: t.waitingBytes > 0 ? '100%' : '0%' }} />
      </div>
      <dl className="gauge-parts">
        <div>
          <dt>
            <span className="key pending" />
            This job, waiting in Cloud Storage
          </dt>
          <dd>{t.waiting}</dd>
        </div>
        <div>
          <dt>
            <span className="key free" />
            Downloaded and verified
          </dt>
          <dd>{t.downloaded}</dd>
        </div>
      </dl>
    </section>
  );
}
