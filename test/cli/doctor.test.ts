/**
 * `tessera doctor` (docs/signin-and-doctor.md#doctor) against the emulator: the account checks alone, a job's folder and
 * output checks, each problem a user can meet (an unticked box, a refused consent, a live lease of another
 * run, foreign files and foreign tasks of the job, a wrong clock, a "Testing" sign-in), exit codes 0 / 3 / 1.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { drive as driveApi } from '@googleapis/drive';
import { OAuth2Client } from 'google-auth-library';
import { credentialsVerdict, runDoctor } from '../../main/core/doctor/doctor';
import { planTiles } from '../../main/core/engine/plan';
import { EarthEngine } from '../../main/core/google/earthengine';
import { emulatorSession, googleEndpoints } from '../../main/core/google/session';
import { loadJobFile } from '../../main/core/job/job-file';
import { DOCTOR_CHECK_IDS, DoctorReportSchema, type DoctorReport } from '../../shared/doctor';
import { tesseraAsync } from '../helpers/cli';
import { runJob, useEmulator } from '../helpers/emulator';
import { rectangleJob } from '../helpers/job';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20 });

const doctor = (args: string[]) => tesseraAsync(['doctor', ...args], { env: { TESSERA_CREDENTIALS: join(mkdtempSync(join(tmpdir(), 'creds-')), 'credentials.json') } });

const byId = (r: DoctorReport) => Object.fromEntries(r.checks.map((c) => [c.id, c]));

/** Drive as another app of the same user (a minted token with full Drive access). */
async function userDrive() {
  const t = (await (await fetch(`${emu.url}/__emulator/token`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).json()) as { access_token: string };
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: t.access_token });
  return driveApi({ version: 'v3', auth, rootUrl: `${emu.url}/` });
}

describe('tessera doctor', () => {
  it('without a job: the account checks, all ok, exit 0; --json has the contract shape', async () => {
    const r = await doctor(['--emulator', emu.url, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = DoctorReportSchema.parse(JSON.parse(r.stdout));
    expect(report.checks.map((c) => c.id)).toEqual(['credentials', 'scopes', 'earthengine', 'drive', 'clock']);
    for (const c of report.checks) {
      expect(Object.keys(c).sort()).toEqual(['id', 'message', 'status']);
      expect(c.status, c.message).toBe('ok');
      expect(c.message).not.toContain('\n');
    }
    expect(byId(report).credentials!.message).toMatch(/emulated-user@example\.com/);
    // The plain form: one line per check.
    const plain = await doctor(['--emulator', emu.url]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().split('\n')).toHaveLength(5);
    expect(plain.stdout).toMatch(/^ok\s+credentials\s+signed in as/m);
  });

  it('with a job: every check of §9; a fresh job in a fresh folder is all ok', async () => {
    const job = rectangleJob('docfresh', 2, 1);
    const r = await doctor([job.file, '--emulator', emu.url, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = DoctorReportSchema.parse(JSON.parse(r.stdout));
    expect(report.checks.map((c) => c.id)).toEqual([...DOCTOR_CHECK_IDS]);
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(byId(report).folder!.message).toMatch(/does not exist yet/);
  });

  it('an unticked Drive box: scopes fail naming Drive and the fix, exit 3', async () => {
    emu.configure({ grantScopes: 'earthengine,cloud-platform' });
    const r = await doctor(['--emulator', emu.url, '--json']).finally(() => emu.configure({ grantScopes: null }));
    expect(r.code, r.stderr).toBe(3);
    const scopes = byId(DoctorReportSchema.parse(JSON.parse(r.stdout))).scopes!;
    expect(scopes.status).toBe('fail');
    expect(scopes.message).toMatch(/Google Drive.*sign in again.*tick/);
  });

  it('a refused consent: credentials fail, the checks that need it are not run, exit 3', async () => {
    emu.configure({ denyConsent: true });
    const r = await doctor(['--emulator', emu.url, '--json']).finally(() => emu.configure({ denyConsent: false }));
    expect(r.code, r.stderr).toBe(3);
    const checks = byId(DoctorReportSchema.parse(JSON.parse(r.stdout)));
    expect(checks.credentials).toMatchObject({ status: 'fail', message: expect.stringMatching(/consent was denied/) });
    expect(checks.earthengine!.message).toMatch(/not checked/);
    expect(checks.clock!.status).toBe('ok');
  });

  it('bad input: a missing job file or a bad URL is exit 1 with one line, nothing checked', async () => {
    const missing = await doctor(['/nonexistent/job.json', '--emulator', emu.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('tessera: job file not found: /nonexistent/job.json');
    expect(missing.stdout).toBe('');
    const url = await doctor(['--emulator', 'not a url']);
    expect(url.code).toBe(1);
    expect(url.stderr).toMatch(/--emulator needs a URL/);
  });

  it('the folder: a live lease of another run fails, foreign files with the job\'s output names are named', async () => {
    const job = rectangleJob('docfolder', 2, 1);
    const tiles = (await planTiles(await loadJobFile(job.file))).tiles;
    const drive = await userDrive();
    const folder = await drive.files.create({ requestBody: { name: 'tessera-docfolder', mimeType: 'application/vnd.google-apps.folder' }, fields: 'id' });
    const parents = [folder.data.id!];
    // The user's own file that happens to carry a tile's output name.
    await drive.files.create({ requestBody: { name: `docfolder_${tiles[0]!.id}.tif`, parents }, media: { mimeType: 'image/tiff', body: Readable.from([Buffer.from('mine')]) } }, { rootUrl: `${emu.url}/` });
    const lease = { job: 'docfolder', host: 'other-laptop', pid: 4242, runId: 'r1', startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString() };
    await drive.files.create({ requestBody: { name: '.tessera-lease-docfolder.json', parents }, media: { mimeType: 'application/json', body: Readable.from([Buffer.from(JSON.stringify(lease))]) } }, { rootUrl: `${emu.url}/` });

    const r = await doctor([job.file, '--emulator', emu.url, '--json']);
    expect(r.code, r.stderr).toBe(3);
    const folderCheck = byId(DoctorReportSchema.parse(JSON.parse(r.stdout))).folder!;
    expect(folderCheck.status).toBe('fail');
    expect(folderCheck.message).toMatch(/another run holds this job: other-laptop \(pid 4242\)/);
    expect(folderCheck.message).toMatch(/1 more: 1 file in the Drive folder tessera-docfolder/);
    // Read-only: both files are still there, untouched.
    const left = await drive.files.list({ q: `'${parents[0]}' in parents`, fields: 'files(name, trashed)' });
    expect(left.data.files!.map((f) => [f.name, f.trashed]).sort()).toEqual([['.tessera-lease-docfolder.json', false], [`docfolder_${tiles[0]!.id}.tif`, false]]);
  });

  it('the folder: tasks of the same job made by another journal are foreign (a run elsewhere, or a lost journal)', { timeout: 120_000 }, async () => {
    const job = rectangleJob('docforeign', 2, 1);
    const run = await runJob(job.file, emu.url, { TESSERA_CREDENTIALS: join(mkdtempSync(join(tmpdir(), 'creds-')), 'credentials.json') });
    expect(run.code, run.stderr).toBe(0);
    // The same job on a machine whose journal is gone.
    const copy = mkdtempSync(join(tmpdir(), 'tessera-docforeign-copy-'));
    cpSync(job.dir, copy, { recursive: true });
    rmSync(join(copy, '.tessera'), { recursive: true, force: true });
    rmSync(join(copy, 'out'), { recursive: true, force: true });
    const r = await doctor([join(copy, 'job.json'), '--emulator', emu.url, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const folderCheck = byId(DoctorReportSchema.parse(JSON.parse(r.stdout))).folder!;
    expect(folderCheck).toMatchObject({ status: 'warn', message: expect.stringMatching(/^2 finished Earth Engine tasks of this job .* not in its journal; tessera run --adopt/) });
    // The original, with its journal, owns them.
    const own = await doctor([job.file, '--emulator', emu.url, '--json']);
    expect(byId(DoctorReportSchema.parse(JSON.parse(own.stdout))).folder!.status).toBe('ok');
  });

  it('a clock 10 minutes off warns (not fails); a sign-in Google says will end is a "Testing" warning', async () => {
    const report = await runDoctor({
      session: () => emulatorSession(emu.url),
      earthEngine: (s) => EarthEngine.connect(s),
      endpoints: googleEndpoints(emu.url),
      now: () => Date.now() + 10 * 60_000,
    });
    expect(byId(report).clock).toMatchObject({ status: 'warn', message: expect.stringMatching(/10 minutes ahead of Google's.*automatic date and time/) });
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);

    const now = Date.parse('2026-03-01T12:00:00Z');
    const [status, message] = credentialsVerdict({ email: 'a@example.com', grant: () => ({ scope: null, refreshTokenExpiresAt: now + 3 * 86_400_000 }) }, now);
    expect(status).toBe('warn');
    expect(message).toMatch(/ends on 2026-03-04 12:00 UTC \(in 3\.0 days\).*"Testing".*"In production"/);
    expect(credentialsVerdict({ email: 'a@example.com', grant: () => ({ scope: null, refreshTokenExpiresAt: null }) }, now)[0]).toBe('ok');
  });
});

