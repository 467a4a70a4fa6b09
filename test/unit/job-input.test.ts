import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadJobFile, parseJob } from '../../main/core/job/job-file';
import { prepareOutputFolder } from '../../main/core/job/output-folder';

const minimal = { name: 'input', roi: 'area.gpkg', grid: { crs: 'EPSG:32632', scale: 10, tilePixels: 1000 }, drive: { folder: 'tessera-input' }, output: 'out' };
const s2 = (start: string, end: string) => ({ ...minimal, recipe: { preset: 's2-median', params: { start, end } } });

describe('mistakes in a job file get one line that says what to do', () => {
  it('refuses dates that are not on the calendar', () => {
    expect(() => parseJob(s2('2023-02-31', '2023-06-01'), '/j/job.json')).toThrow(/params\.start.*2023-02-31.*not a real date/);
    expect(() => parseJob(s2('2023-01-01', '2023-13-01'), '/j/job.json')).toThrow(/params\.end.*not a real date/);
    expect(() => parseJob(s2('2024-02-29', '2024-03-01'), '/j/job.json')).not.toThrow(); // a leap day is real
  });

  it('refuses a Drive folder with "/" (Earth Engine takes it as one literal folder name)', () => {
    expect(() => parseJob({ ...minimal, drive: { folder: 'exports/bavaria' } }, '/j/job.json')).toThrow(/"drive\.folder".*"\/".*one folder name/);
    expect(() => parseJob({ ...minimal, drive: undefined, destination: { type: 'drive', folder: 'a/b' } }, '/j/job.json')).toThrow(/"destination\.folder".*"\/"/);
  });

  it('suggests the key meant when one is misspelt', () => {
    expect(() => parseJob({ ...minimal, retires: 5 }, '/j/job.json')).toThrow(/unknown key "retires".*did you mean "retries"/);
    expect(() => parseJob({ ...minimal, export: { dataTyp: 'Float32' } }, '/j/job.json')).toThrow(/unknown key "export\.dataTyp".*did you mean "export\.dataType"/);
    expect(() => parseJob({ ...minimal, recipe: { preset: 's2-median', params: { start: '2023-01-01', end: '2023-02-01', maxCloudPercnt: 3 } } }, '/j/job.json')).toThrow(/maxCloudPercnt.*did you mean "maxCloudPercent"/);
    expect(() => parseJob({ ...minimal, zzzzzz: 1 }, '/j/job.json')).not.toThrow(/did you mean/);
  });

  it('gives line and column of a JSON syntax error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'job-input-'));
    writeFileSync(join(dir, 'job.json'), '{\n  "name": "x",\n  "output": "out"\n  "grid": {}\n}\n');
    await expect(loadJobFile(join(dir, 'job.json'))).rejects.toThrow(/line 4, column 3/);
  });

  it('refuses an output folder on a virtual filesystem (/proc) at once, instead of hanging', async () => {
    const t0 = Date.now();
    await expect(prepareOutputFolder('/proc/tessera-output-test/out')).rejects.toThrow(/\/proc.*not a place for files/);
    await expect(prepareOutputFolder('/sys/tessera-output-test')).rejects.toThrow(/not a place for files/);
    expect(Date.now() - t0).toBeLessThan(2000);
    const ok = join(mkdtempSync(join(tmpdir(), 'job-out-')), 'a', 'b');
    await prepareOutputFolder(ok);
  });
});
