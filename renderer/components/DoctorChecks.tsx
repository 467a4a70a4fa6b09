import type { DoctorCheck, DoctorReport } from '../../shared/doctor';

const LABEL: Record<DoctorCheck['id'], string> = {
  credentials: 'Sign-in',
  scopes: 'Access granted',
  earthengine: 'Earth Engine',
  drive: 'Google Drive',
  folder: 'Drive folder',
  output: 'Output folder',
  clock: 'Clock',
};
const MARK: Record<DoctorCheck['status'], string> = { ok: '✓', warn: '!', fail: '✗' };
const WORD: Record<DoctorCheck['status'], string> = { ok: 'ok', warn: 'warning', fail: 'failed' };

/**
 * `tessera doctor`'s checks as a list (Settings, and the wizard before it starts a job): one line each,
 * its status in words for screen readers as well as a mark, the fix in the message.
 */
export function DoctorChecks({ report, testid, only }: { report: DoctorReport; testid: string; only?: 'problems' }) {
  const checks = only === 'problems' ? report.checks.filter((c) => c.status !== 'ok') : report.checks;
  return (
    <ul className="doctor-checks" data-testid={testid}>
      {checks.map((c) => (
        <li key={c.id} data-testid={`doctor-${c.id}`} data-status={c.status} className={`doctor-${c.status}`}>
          <span aria-hidden="true" className="doctor-mark">
            {MARK[c.status]}
          </span>{' '}
          <strong>{LABEL[c.id]}</strong> <span className="visually-hidden">({WORD[c.status]})</span>: {c.message}
        </li>
      ))}
    </ul>
  );
}
