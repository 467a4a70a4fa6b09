import { Command } from 'commander';
import { runDoctor, doctorExitCode } from '../../core/doctor/doctor';
import { EarthEngine } from '../../core/google/earthengine';
import { googleEndpoints } from '../../core/google/session';
import { loadJobFile, type Job } from '../../core/job/job-file';
import { connect, emulatorBase } from '../connect';

/** `tessera doctor [JOB.json] [--emulator URL] [--json]`: everything a run needs, checked before a run (docs/signin-and-doctor.md#doctor). */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check the sign-in, its access, Earth Engine, Drive, the clock — and with a job file its Drive folder and output folder — before a run')
    .argument('[job.json]', 'the job file (without it, only the account checks run)')
    .option('--emulator <url>', 'check against this emulator instead of Google (signs in by itself)')
    .option('--json', 'print { "checks": [{ "id", "status", "message" }] }')
    .action(async (jobPath: string | undefined, opts: { emulator?: string; json?: boolean }) => {
      // Bad input first (exit 1, nothing checked): the URL and the job file.
      const base = opts.emulator ? emulatorBase(opts.emulator) : undefined;
      const job: Job | undefined = jobPath ? await loadJobFile(jobPath) : undefined;
      const report = await runDoctor({
        session: async () => (await connect(base, job?.project)).session,
        earthEngine: (session) => EarthEngine.connect(session),
        endpoints: googleEndpoints(base),
        ...(job ? { job } : {}),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const width = Math.max(...report.checks.map((c) => c.id.length));
        for (const c of report.checks) process.stdout.write(`${c.status.padEnd(4)}  ${c.id.padEnd(width)}  ${c.message}\n`);
      }
      process.exitCode = doctorExitCode(report);
    });
}
