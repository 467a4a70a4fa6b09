import type { Quota } from '../../shared/contract';
import type { JobSummary } from '../../shared/dashboard';
import { formatBytes } from '../format';

interface Props {
  quota: Quota | null;
  drive: JobSummary['drive'] | null;
}

/**
 * Google Drive's storage as the engine last read it: what other content uses, this job's outputs still
 * waiting in Drive, the trash, what is free, and the reserve the engine keeps free (a line). `role=meter`
 * with the bytes as values (docs/dashboard.md#drive-quota-gauge); `aria-valuetext="unlimited"` when Drive has no limit.
 */
export function QuotaGauge({ quota, drive }: Props) {
  if (!quota) {
    return (
      <section className="panel gauge" aria-label="Google Drive storage">
        <h2>Drive</h2>
        <p className="muted">Storage not read yet.</p>
      </section>
    );
  }
  // This job's outputs in Drive: the listed ones exactly, the not yet listed ones estimated.
  const pending = Math.min((drive?.pendingBytes ?? 0) + (drive?.unlistedBytes ?? 0), quota.usage);
  const trash = Math.min(quota.usageInDriveTrash, quota.usage - pending);
  const other = Math.max(0, quota.usage - pending - trash);
  const limit = quota.limit;
  const reserve = drive?.reserveBytes ?? 0;
  const label = limit === null ? `${formatBytes(quota.usage)} used · no limit` : `${formatBytes(quota.usage)} of ${formatBytes(limit)}`;
  const scale = limit ?? Math.max(quota.usage, 1);
  const pct = (v: number) => `${Math.max(0, Math.min(100, (v / scale) * 100))}%`;
  const free = limit === null ? null : Math.max(0, limit - quota.usage);
  const low = limit !== null && free !== null && free <= reserve;
  return (
    <section className="panel gauge" aria-label="Google Drive storage">
      <h2>
        Drive <span className={`gauge-label${low ? ' alarm-text' : ''}`}>{label}</span>
      </h2>
      <div
        className={`meter${limit === null ? ' unlimited' : ''}${low ? ' low' : ''}`}
        role="meter"
        aria-label="Google Drive storage used"
        aria-valuemin={0}
        aria-valuenow={quota.usage}
        aria-valuemax={limit ?? undefined}
        aria-valuetext={limit === null ? 'unlimited' : label}
      >
        <span className="seg other" style={{ width: pct(other) }} />
        <span className="seg pending" style={{ width: pct(pending) }} />
        <span className="seg trash" style={{ width: pct(trash) }} />
        {limit !== null && reserve > 0 && <span className="reserve-line" style={{ left: pct(limit - reserve) }} title={`reserve: ${formatBytes(reserve)} kept free`} />}
      </div>
      <dl className="gauge-parts">
        <div>
          <dt>
            <span className="key other" />
            Other content
          </dt>
          <dd>{formatBytes(other)}</dd>
        </div>
        <div>
          <dt>
            <span className="key pending" />
            This job, waiting in Drive
          </dt>
          <dd>
            {drive?.unlistedBytes ? '≈ ' : ''}
            {formatBytes(pending)}
            {drive?.pendingFiles ? ` · ${drive.pendingFiles} file${drive.pendingFiles === 1 ? '' : 's'}` : ''}
            {drive?.unlistedTiles ? ` + ${drive.unlistedTiles} tile${drive.unlistedTiles === 1 ? '' : 's'} not listed yet` : ''}
          </dd>
        </div>
        <div>
          <dt>
            <span className="key trash" />
            Trash
          </dt>
          <dd>{formatBytes(quota.usageInDriveTrash)}</dd>
        </div>
        <div>
          <dt>
            <span className="key free" />
            Free
          </dt>
          <dd>{free === null ? 'no limit' : formatBytes(free)}</dd>
        </div>
        {reserve > 0 && (
          <div>
            <dt>
              <span className="key reserve" />
              Reserve kept free
            </dt>
            <dd>{formatBytes(reserve)}</dd>
          </div>
        )}
      </dl>
    </section>
  );
}
