import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeParams, PRESET_NAMES, PRESETS, type PresetName } from '../../../shared/recipes';
import { UserError } from '../../core/errors';
import { EarthEngine } from '../../core/google/earthengine';
import { checkPresetParams, loadJobFile, type Job } from '../../core/job/job-file';
import { checkedPeriod, checkRecipe } from '../../core/recipes/check';
import { isPeriodAware, paramsForPeriod } from '../../core/recipes/period';
import { connect } from '../connect';

/** `tessera recipes` (list the presets) and `tessera recipes check RECIPE --job JOB.json`. */
export function recipesCommand(): Command {
  const cmd = new Command('recipes')
    .description('list the built-in recipes (presets) and their parameters')
    .option('--json', 'print the presets as one JSON object')
    .action((opts: { json?: boolean }) => {
      if (opts.json) {
        const out = Object.fromEntries(PRESET_NAMES.map((n) => [n, { kind: PRESETS[n].kind, title: PRESETS[n].title, periodAware: isPeriodAware(n), params: describeParams(n) }]));
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const lines: string[] = [];
      for (const name of PRESET_NAMES) {
        lines.push(`${name} (${PRESETS[name].kind}${isPeriodAware(name) ? ', period-aware' : ''}) — ${PRESETS[name].title}`);
        for (const p of describeParams(name)) {
          const def = p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : p.optional ? ' (optional)' : ' (required)';
          lines.push(`  ${p.name}: ${p.type}${def}${p.description ? ` — ${p.description}` : ''}`);
        }
      }
      lines.push('', 'In the job file: "recipe": { "preset": NAME, "params": { … } } or "recipe": { "file": "recipe.js" }');
      lines.push('A recipe file: module.exports = (tile, ee) => ee.Image | ee.FeatureCollection (or a Promise of one).');
      lines.push('Period-aware presets take start and end from each period of a job with "periods"; a recipe file gets it as tile.period (and a third argument): { id, start, end }.');
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  cmd.addCommand(
    new Command('check')
      .description("build the first tile's expression without exporting; report its bands and data type")
      .argument('[recipe]', "a preset name or a recipe file (.js); default: the job's own recipe")
      .requiredOption('--job <job.json>', 'the job whose grid (and points) the recipe is built for')
      .option('--emulator <url>', 'send every Google request to this emulator (signs in by itself)')
      .option('--period <id>', 'a job with "periods": build for this period (default: the first)')
      .action(async (recipeArg: string | undefined, opts: { job: string; emulator?: string; period?: string }) => {
        const base = await loadJobFile(opts.job);
        if (recipeArg === undefined && !base.recipe) throw new UserError(`${opts.job} has no "recipe": name one to check (tessera recipes check PRESET|FILE --job ${opts.job})`);
        const job = recipeArg === undefined ? base : withRecipe(base, recipeArg);
        const period = checkedPeriod(job, opts.period);
        if (job.recipe && 'preset' in job.recipe) checkPresetParams(job.recipe.preset, paramsForPeriod(job.recipe.preset, job.recipe.params, period));
        const { session } = await connect(opts.emulator, job.project);
        const ee = await EarthEngine.connect(session);
        const r = await checkRecipe(job, ee, { period: period?.id });
        for (const line of r.logs) process.stdout.write(`${line}\n`);
        process.stdout.write(`${r.label}: tile ${r.tile}${r.period ? ` (period ${r.period})` : ''} builds ${r.kind === 'image' ? 'an ee.Image' : 'an ee.FeatureCollection'} (not exported)\n`);
        if (r.note) process.stdout.write(`  (${r.note})\n`);
        else if (r.kind === 'image') for (const b of r.bands) process.stdout.write(`  band ${b.id}: ${b.type}\n`);
        else process.stdout.write(`  ${r.features} feature(s) for this tile (${r.points ?? '?'} point(s) assigned)\n`);
      }),
  );
  return cmd;
}

/** The job with RECIPE in place of its own: a preset (the job's params when it uses that preset) or a file. */
function withRecipe(job: Job, arg: string): Job {
  if ((PRESET_NAMES as string[]).includes(arg)) {
    const own = job.recipe && 'preset' in job.recipe && job.recipe.preset === arg ? job.recipe.params : {};
    return { ...job, recipe: { preset: arg as PresetName, params: own } };
  }
  const file = resolve(arg);
  if (!existsSync(file)) throw new UserError(`recipe "${arg}" is neither a preset (${PRESET_NAMES.join(', ')}) nor a file`);
  const timeoutSeconds = job.recipe && 'file' in job.recipe ? job.recipe.timeoutSeconds : undefined;
  return { ...job, recipe: { file, timeoutSeconds } };
}
