import { useEffect, useId, useRef, useState } from 'react';
import { NewJobRequestSchema, UPLOAD_EXTENSIONS, UPLOAD_MAX_BYTES, type GridPreview, type NewJobRequest, type RecipeCheck } from '../../shared/dashboard';
import { describeParams, parsePresetParams, PRESET_NAMES, PRESETS, type PresetName } from '../../shared/recipes';
import type { TesseraClient } from '../api';
import { formatBytes, formatCount } from '../format';
import { gridPreview } from '../map/preview';
import { FileChoice } from './wizard/FileChoice';
import { DestinationFields } from './wizard/DestinationFields';
import { ModeField, type JobModeChoice } from './wizard/ModeField';
import { destinationOf } from './wizard/destination';
import { trapTab } from './focus';
import { DoctorChecks } from './DoctorChecks';
import type { DoctorReport } from '../../shared/doctor';
import { EE_DEFAULT_MAX_PIXELS, float64Warning, presetShape, shapeOfBands, type OutputShape } from '../../shared/estimate';

interface Props {
  client: TesseraClient;
  onClose: () => void;
  /** The job was written and added; `started` unless the user chose "Save without starting". */
  onCreated: (name: string, started: boolean) => void;
}

type Check = { state: 'idle' } | { state: 'waiting'; text: string } | { state: 'checking' } | { state: 'done'; result: RecipeCheck } | { state: 'failed'; message: string };

type Field = { name: string; type: string; optional: boolean; default?: unknown; description?: string };

/** A preset parameter as typed in the form → the value the schema expects. */
function paramValue(f: Field, raw: string | boolean): unknown {
  if (typeof raw === 'boolean') return raw;
  const text = raw.trim();
  if (text === '') return undefined;
  if (f.type === 'number' || f.type === 'integer') return Number(text);
  if (f.type.startsWith('array')) return text.split(',').map((s) => s.trim()).filter(Boolean);
  if (f.type === 'object') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function initialText(f: Field): string | boolean {
  if (f.type === 'boolean') return f.default === undefined ? false : Boolean(f.default);
  if (f.default === undefined) return '';
  return Array.isArray(f.default) ? f.default.join(', ') : typeof f.default === 'object' ? JSON.stringify(f.default) : String(f.default);
}

/**
 * The job wizard: a job file of docs/job-file.md without writing JSON. A side panel (the map stays in
 * view, with the grid preview drawn on it); a modal dialog for the keyboard (Tab cycles inside, Escape
 * closes). ROI file: a path, the system's dialog (desktop app), or a file sent to `tessera serve`
 * (file input or drag-and-drop anywhere on the panel) and kept in its uploads folder; its layer;
 * CRS, pixel size and tile size with the live tile count, pixel and byte estimates from the host's grid
 * code and the first tiles on the map; a preset recipe with its form rendered from the preset's zod
 * schema (shared/recipes.ts) or a custom recipe file checked live as `tessera recipes check` does; Drive
 * and local folders, maxInFlight, the Drive reserve and an EECU budget. The form is checked with
 * NewJobRequestSchema (the host checks the same schema, then the job as `tessera run` would); errors sit
 * next to their fields. "Create and start" or "Save without starting".
 */
export function Wizard({ client, onClose, onCreated }: Props) {
  const id = useId();
  const dialog = useRef<HTMLDivElement>(null);
  const [v, setV] = useState({
    name: '',
    roi: '',
    layer: '',
    crs: 'EPSG:3035',
    scale: '10',
    tilePixels: '1000',
    mode: 'export' as JobModeChoice,
    recipe: '' as '' | PresetName | 'file',
    recipeFile: '',
    drive: 'tessera',
    destType: 'drive' as 'drive' | 'gcs',
    bucket: '',
    prefix: '',
    output: '',
    maxInFlight: '4',
    reserveGb: '',
    eecuHours: '',
    file: '',
  });
  const [params, setParams] = useState<Record<string, string | boolean>>({});
  const [preview, setPreview] = useState<GridPreview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<'start' | 'save' | null>(null);
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [notes, setNotes] = useState<{ roi?: string; recipeFile?: string }>({});
  const [fileErrors, setFileErrors] = useState<{ roi?: string; recipeFile?: string }>({});
  const [dragging, setDragging] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  /** The checks run before a job starts (tessera doctor's account checks); shown when any is not ok. */
  const [doctor, setDoctor] = useState<DoctorReport | null>(null);
  /** Fields the user typed in: their defaults stop following the name and the ROI. */
  const touched = useRef<{ file?: boolean; output?: boolean }>({});
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => {
    if (k === 'file' || k === 'output') touched.current[k] = true;
    setV((o) => ({ ...o, [k]: e.target.value }));
  };

  // The job file beside the ROI (or in the data folder for a file sent from the browser) and the outputs
  // in a folder named after the job next to it, until the user types their own (jobDefaults).
  useEffect(() => {
    const d = jobDefaults(v.name.trim(), v.roi.trim());
    setV((o) => ({ ...o, ...(touched.current.file || !d ? {} : { file: d.file }), ...(touched.current.output || !d ? {} : { output: d.output }) }));
  }, [v.name, v.roi]);
  const fields: Field[] = v.recipe && v.recipe !== 'file' ? describeParams(v.recipe) : [];
  // The outputs' bands and type for the estimate: the recipe check's real ones for a recipe file, the
  // preset's declared ones otherwise (s2-median: Float64), the built-in image without a recipe.
  const shape: OutputShape =
    v.recipe === 'file' && check.state === 'done' && check.result.ok && check.result.kind === 'image' && check.result.bands.length
      ? shapeOfBands(check.result.bands)
      : presetShape(v.recipe === 'file' ? 'file' : v.recipe || undefined, {}, {});
  const f64 = float64Warning(shape, false);

  useEffect(() => {
    const first = dialog.current?.querySelector<HTMLElement>('input, select, button');
    first?.focus();
  }, []);

  // The preview on the map lives as long as the wizard.
  useEffect(() => () => gridPreview.set(null), []);
  const gridValid = () => {
    const scale = Number(v.scale);
    const tilePixels = Number(v.tilePixels);
    return v.roi.trim() !== '' && scale > 0 && Number.isInteger(tilePixels) && tilePixels >= 1 && /^EPSG:\d{4,6}$/.test(v.crs.trim());
  };

  // The live grid: asked again 300 ms after the ROI or the grid changes.
  useEffect(() => {
    const scale = Number(v.scale);
    const tilePixels = Number(v.tilePixels);
    if (!gridValid()) {
      setPreview(null);
      setPreviewError(null);
      gridPreview.set(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      client.previewGrid({ roi: { path: v.roi.trim(), layer: v.layer || undefined }, grid: { crs: v.crs.trim(), scale, tilePixels }, bands: shape.bands, dataType: shape.dataType }).then(
        (p) => {
          if (!live) return;
          setPreview(p);
          setPreviewError(null);
          gridPreview.set({ rings: p.preview, tiles: p.tiles, key: `${v.roi.trim()}|${p.layer}` });
        },
        (e: unknown) => {
          if (!live) return;
          setPreview(null);
          setPreviewError((e as Error).message);
          gridPreview.set(null);
        },
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, v.roi, v.layer, v.crs, v.scale, v.tilePixels, shape.bands, shape.dataType]);

  // A custom recipe file is checked 600 ms after it, the ROI or the grid change (tessera recipes check's logic).
  useEffect(() => {
    const file = v.recipeFile.trim();
    if (v.recipe !== 'file' || !file) {
      setCheck({ state: 'idle' });
      return;
    }
    if (!gridValid()) {
      setCheck({ state: 'waiting', text: 'checked once the ROI and the grid are set' });
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      setCheck({ state: 'checking' });
      client
        .checkRecipe({ recipe: { file }, roi: { path: v.roi.trim(), layer: v.layer || undefined }, grid: { crs: v.crs.trim(), scale: Number(v.scale), tilePixels: Number(v.tilePixels) } })
        .then(
          (result) => live && setCheck({ state: 'done', result }),
          (e: unknown) => live && setCheck({ state: 'failed', message: (e as Error).message }),
        );
    }, 600);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, v.recipe, v.recipeFile, v.roi, v.layer, v.crs, v.scale, v.tilePixels]);
  const checkError = check.state === 'failed' ? check.message : check.state === 'done' && !check.result.ok ? check.result.message : undefined;

  /** A file from the file input or a drop: its path when the desktop app knows it, else sent to tessera serve. */
  const takeFile = async (file: File & { path?: string }, target: 'roi' | 'recipeFile') => {
    setFileErrors((o) => ({ ...o, [target]: undefined }));
    const put = (path: string) => setV((o) => ({ ...o, [target]: path, ...(target === 'roi' ? { layer: '' } : { recipe: 'file' as const }) }));
    const path = file.path || client.pathOf(file);
    if (path) {
      put(path);
      return;
    }
    if (!client.canUpload) {
      setFileErrors((o) => ({ ...o, [target]: `${file.name}: this window cannot tell the file's path; type it or use Choose…` }));
      return;
    }
    if (file.size > UPLOAD_MAX_BYTES) {
      setFileErrors((o) => ({ ...o, [target]: `${file.name} is larger than ${formatBytes(UPLOAD_MAX_BYTES)}` }));
      return;
    }
    setNotes((o) => ({ ...o, [target]: `sending ${file.name} (${formatBytes(file.size)})…` }));
    try {
      const r = await client.upload(file, file.name);
      put(r.path);
      setNotes((o) => ({ ...o, [target]: `${r.name} (${formatBytes(r.size)}) sent to tessera serve` }));
    } catch (e) {
      setNotes((o) => ({ ...o, [target]: undefined }));
      setFileErrors((o) => ({ ...o, [target]: `${file.name}: ${(e as Error).message}` }));
    }
  };
  const choose = async (target: 'roi' | 'recipeFile') => {
    try {
      const path = await client.chooseFile(target === 'roi' ? 'roi' : 'recipe');
      if (path) setV((o) => ({ ...o, [target]: path, ...(target === 'roi' ? { layer: '' } : {}) }));
    } catch (e) {
      setFileErrors((o) => ({ ...o, [target]: (e as Error).message }));
    }
  };

  /** The desktop's save dialog for the job file. */
  const chooseJobFile = async () => {
    try {
      const path = await client.chooseFile('job');
      if (path) {
        touched.current.file = true;
        setV((o) => ({ ...o, file: path }));
      }
    } catch (e) {
      setFailure(`the save dialog failed: ${(e as Error).message}`);
    }
  };

  const request = (start: boolean): NewJobRequest => {
    const num = (s: string) => (s.trim() === '' ? undefined : Number(s));
    let recipe: NewJobRequest['job']['recipe'];
    if (v.recipe === 'file') recipe = { file: v.recipeFile.trim() };
    else if (v.recipe) {
      const p: Record<string, unknown> = {};
      for (const f of fields) {
        const value = paramValue(f, params[f.name] ?? initialText(f));
        if (value !== undefined) p[f.name] = value;
      }
      recipe = { preset: v.recipe, params: p };
    }
    const reserve = num(v.reserveGb);
    return {
      file: v.file.trim(),
      start,
      job: {
        name: v.name.trim(),
        roi: { path: v.roi.trim(), ...(v.layer ? { layer: v.layer } : {}) },
        grid: { crs: v.crs.trim(), scale: Number(v.scale), tilePixels: Number(v.tilePixels) },
        ...(v.mode !== 'export' ? { mode: v.mode } : {}),
        ...(recipe ? { recipe } : {}),
        ...destinationOf(v),
        output: v.output.trim(),
        ...(v.maxInFlight.trim() ? { maxInFlight: Number(v.maxInFlight) } : {}),
        ...(reserve !== undefined ? { driveReserveBytes: Math.round(reserve * 1024 ** 3) } : {}),
        ...(num(v.eecuHours) !== undefined ? { eecuBudgetHours: num(v.eecuHours) } : {}),
      },
    };
  };

  const submit = async (start: boolean) => {
    setFailure(null);
    const req = request(start);
    const found: Record<string, string> = {};
    const r = NewJobRequestSchema.safeParse(req);
    if (!r.success) {
      for (const issue of r.error.issues) {
        const key = issue.path.filter((p) => p !== 'job').join('.');
        found[key] ??= issue.message;
      }
    }
    if (v.recipe && v.recipe !== 'file' && req.job.recipe && 'preset' in req.job.recipe) {
      const p = parsePresetParams(v.recipe, req.job.recipe.params);
      if (!p.ok) found['recipe.params'] = p.message;
    }
    if (v.recipe === 'file' && checkError) found['recipe.file'] ??= checkError;
    setErrors(found);
    if (Object.keys(found).length) {
      dialog.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      return;
    }
    setBusy(start ? 'start' : 'save');
    try {
      // Before a job starts: what it needs from the account (sign-in, access, Earth Engine, Drive, clock).
      // A host without checks (404) or a check that could not run at all does not hold the job back.
      const report = start && client.services ? await client.services.doctor().catch(() => null) : null;
      if (report) {
        setDoctor(report.checks.some((c) => c.status !== 'ok') ? report : null);
        if (report.checks.some((c) => c.status === 'fail')) {
          setFailure('The job was not started: fix what the checks below found, or save it without starting.');
          return;
        }
      }
      const made = await client.createJob(req);
      onCreated(made.name, start);
    } catch (e) {
      setFailure((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  const err = (key: string) => errors[key];
  const input = (key: keyof typeof v, label: string, errorKey: string, props: Record<string, unknown> = {}, hint?: string) => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <input
        id={`${id}-${key}`}
        data-testid={`wizard-${key}`}
        value={v[key]}
        onChange={set(key)}
        aria-invalid={err(errorKey) ? 'true' : undefined}
        aria-describedby={err(errorKey) ? `${id}-${key}-error` : hint ? `${id}-${key}-hint` : undefined}
        spellCheck={false}
        autoComplete="off"
        {...props}
      />
      {err(errorKey) ? (
        <span className="field-error" id={`${id}-${key}-error`} role="alert">
          {err(errorKey)}
        </span>
      ) : (
        hint && (
          <span className="muted field-hint" id={`${id}-${key}-hint`}>
            {hint}
          </span>
        )
      )}
    </div>
  );

  // A file dropped anywhere on the panel: a .js file is the recipe, anything else the ROI.
  const onDrop = (e: React.DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0] as (File & { path?: string }) | undefined;
    if (file) void takeFile(file, /\.js$/i.test(file.name) ? 'recipeFile' : 'roi');
  };
  const fileChoice = (target: 'roi' | 'recipeFile', label: string, accept: string) => (
    <FileChoice
      label={label}
      accept={accept}
      testId={`wizard-${target === 'roi' ? 'roi' : 'recipe'}-upload`}
      canUpload={client.canUpload}
      canChoose={client.canChooseFile}
      note={notes[target]}
      error={fileErrors[target]}
      onFile={(f) => void takeFile(f, target)}
      onChoose={() => void choose(target)}
    />
  );

  return (
    <div className="side-dock wizard-dock">
      <div
        ref={dialog}
        className={`wizard panel${dragging ? ' dragging' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        data-testid="wizard"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={onDrop}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onClose();
          } else trapTab(e); // the focus stays in the dialog
        }}
      >
        <h2 id={`${id}-title`}>New job</h2>
        <p className="muted wizard-drop-hint">{client.canUpload ? 'Drop an ROI file (.gpkg, .geojson) or a recipe (.js) anywhere here.' : 'Drop a file here, or choose it.'}</p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit(true);
          }}
          noValidate
        >
          <fieldset>
            <legend>Region</legend>
            {input('name', 'Job name', 'name', {}, 'letters, digits and -')}
            {input('roi', 'ROI file (GeoPackage or GeoJSON, full path)', 'roi.path', { placeholder: '/data/area.gpkg' }, client.canUpload ? 'a path on the machine running tessera serve, or send a file:' : undefined)}
            {fileChoice('roi', client.canUpload ? 'ROI file to send' : 'Pick the ROI file', UPLOAD_EXTENSIONS.filter((x) => x !== '.js').join(','))}
            {preview && preview.layers.length > 1 && (
              <div className="field">
                <label htmlFor={`${id}-layer`}>Layer</label>
                <select id={`${id}-layer`} data-testid="wizard-layer" value={v.layer || preview.layer} onChange={set('layer')}>
                  {preview.layers.map((l) => (
                    <option key={l.name} value={l.name}>
                      {l.name} ({l.geometryType.toLowerCase()}, {l.featureCount} feature{l.featureCount === 1 ? '' : 's'})
                    </option>
                  ))}
                </select>
              </div>
            )}
          </fieldset>
          <fieldset>
            <legend>Grid</legend>
            {input('crs', 'CRS', 'grid.crs', {}, 'EPSG code of the export')}
            {input('scale', 'Pixel size (CRS units)', 'grid.scale', { inputMode: 'decimal' })}
            {input('tilePixels', 'Tile size (pixels)', 'grid.tilePixels', { inputMode: 'numeric' })}
            <ModeField mode={v.mode} choose={(mode) => setV((o) => ({ ...o, mode }))} tilePixels={Number(v.tilePixels)} shape={shape} />
            <p className="grid-estimate" data-testid="wizard-estimate" data-layer={preview?.layer} role="status" aria-live="polite">
              {preview
                ? `${formatCount(preview.tiles)} tiles · ${formatCount(preview.pixelsPerTile)} px and ~${formatBytes(preview.bytesPerTile)} per tile (${shape.bands} band${shape.bands === 1 ? '' : 's'} ${shape.dataType}) · ~${formatBytes(preview.totalBytes)} in all`
                : previewError
                  ? ''
                  : 'The tile count appears once the ROI and the grid are set.'}
            </p>
            {preview && preview.preview.length < preview.tiles && (
              <p className="muted field-note" data-testid="wizard-preview-note">
                The map shows the first {formatCount(preview.preview.length)} of {formatCount(preview.tiles)} tiles.
              </p>
            )}
            {preview && f64 && (
              <p className="muted field-note" data-testid="wizard-float64">
                {f64}
              </p>
            )}
            {preview?.overMaxPixels ? (
              <p className="field-error" data-testid="wizard-maxpixels">
                A tile has {formatCount(preview.pixelsPerTile)} pixels, above the export's maxPixels ({formatCount(preview.maxPixels)}): Earth Engine would refuse it. Use smaller tiles.
              </p>
            ) : (
              preview &&
              preview.pixelsPerTile > EE_DEFAULT_MAX_PIXELS && (
                // What the runner does (shared/estimate.ts maxPixelsSent): each export carries its own pixel count.
                <p className="muted field-note" data-testid="wizard-maxpixels">
                  A tile has {formatCount(preview.pixelsPerTile)} pixels, above Earth Engine's default maxPixels (100,000,000): each export is sent with maxPixels = {formatCount(preview.maxPixels)}, so it is accepted; tiles this large run long and split more often.
                </p>
              )
            )}
            {previewError && (
              <p className="field-error" data-testid="wizard-preview-error">
                {previewError}
              </p>
            )}
            {preview?.warnings.map((w) => (
              <p key={w} className="muted">
                {w}
              </p>
            ))}
          </fieldset>
          <fieldset>
            <legend>Recipe</legend>
            <div className="field">
              <label htmlFor={`${id}-recipe`}>What to export</label>
              <select id={`${id}-recipe`} data-testid="wizard-recipe" value={v.recipe} onChange={(e) => setV((o) => ({ ...o, recipe: e.target.value as typeof o.recipe }))}>
                <option value="">the built-in test image</option>
                {PRESET_NAMES.map((n) => (
                  <option key={n} value={n}>
                    {n}: {PRESETS[n].title}
                  </option>
                ))}
                <option value="file">a custom recipe file…</option>
              </select>
            </div>
            {v.recipe === 'file' && (
              <>
                {input('recipeFile', 'Recipe file', 'recipe.file', { placeholder: '/data/recipe.js', ...(checkError && !err('recipe.file') ? { 'aria-invalid': 'true', 'aria-describedby': `${id}-recipe-check` } : {}) })}
                {fileChoice('recipeFile', client.canUpload ? 'Recipe file to send' : 'Pick the recipe file', '.js')}
                {!err('recipe.file') && <RecipeCheckLine check={check} id={`${id}-recipe-check`} />}
              </>
            )}
            {fields.map((f) => {
              const fid = `${id}-p-${f.name}`;
              const value = params[f.name] ?? initialText(f);
              const onChange = (x: string | boolean) => setParams((o) => ({ ...o, [f.name]: x }));
              return (
                <div className="field" key={f.name}>
                  <label htmlFor={fid}>
                    {f.name}
                    {f.optional ? '' : ' *'}
                  </label>
                  {f.type === 'boolean' ? (
                    <input id={fid} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
                  ) : f.type.includes(' | ') && !f.type.startsWith('array') ? (
                    <select id={fid} value={String(value)} onChange={(e) => onChange(e.target.value)}>
                      {f.type.split(' | ').map((o) => (
                        <option key={o}>{o}</option>
                      ))}
                    </select>
                  ) : (
                    <input id={fid} data-testid={`wizard-param-${f.name}`} value={String(value)} onChange={(e) => onChange(e.target.value)} aria-describedby={`${fid}-hint`} />
                  )}
                  <span className="muted field-hint" id={`${fid}-hint`}>
                    {f.description}
                    {f.type.startsWith('array') ? ` (${f.type}, comma-separated)` : ''}
                  </span>
                </div>
              );
            })}
            {err('recipe.params') && (
              <p className="field-error" role="alert" data-testid="wizard-params-error">
                {err('recipe.params')}
              </p>
            )}
          </fieldset>
          <fieldset>
            <legend>Where</legend>
            <DestinationFields client={client} v={v} choose={(k, value) => setV((o) => ({ ...o, [k]: value }))} input={input} />
            {input('output', 'Local folder for the outputs', 'output', { placeholder: '/data/out' }, 'relative paths start at the job file’s folder')}
            {input('file', 'Save the job file as', 'file', { placeholder: '/data/job.json' })}
            {client.canChooseFile && (
              <div className="field">
                <span />
                <button type="button" data-testid="wizard-file-choose" onClick={() => void chooseJobFile()}>
                  Choose where…
                </button>
              </div>
            )}
          </fieldset>
          <fieldset>
            <legend>Limits</legend>
            {input('maxInFlight', 'Exports at once (maxInFlight)', 'maxInFlight', { inputMode: 'numeric' })}
            {input('reserveGb', 'Keep free in Drive (GiB)', 'driveReserveBytes', { inputMode: 'decimal' }, 'optional')}
            {input('eecuHours', 'EECU budget (hours)', 'eecuBudgetHours', { inputMode: 'decimal' }, 'optional')}
          </fieldset>
          {failure && (
            <p className="field-error" role="alert" data-testid="wizard-failure">
              {failure}
            </p>
          )}
          {doctor && <DoctorChecks report={doctor} testid="wizard-doctor" only="problems" />}
          <div className="wizard-actions">
            <button type="button" onClick={onClose} data-testid="wizard-cancel">
              Cancel
            </button>
            <button type="button" data-testid="wizard-save" aria-disabled={busy !== null} onClick={() => busy === null && void submit(false)} title="Write the job file and add the job without running it; start it from the jobs list">
              {busy === 'save' ? 'Saving…' : 'Save without starting'}
            </button>
            <button type="submit" className="primary" data-testid="wizard-create" aria-disabled={busy !== null} onClick={(e) => busy !== null && e.preventDefault()}>
              {busy === 'start' ? 'Creating…' : 'Create and start'}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}

/** What the live check of the custom recipe found, next to its field. */
function RecipeCheckLine({ check, id }: { check: Check; id: string }) {
  if (check.state === 'idle') return null;
  if (check.state === 'waiting' || check.state === 'checking') {
    return (
      <p id={id} className="muted field-note" data-testid="wizard-recipe-check" data-state={check.state} role="status">
        {check.state === 'checking' ? 'checking the recipe on the first tile…' : `The recipe is ${check.text}.`}
      </p>
    );
  }
  const r = check.state === 'done' ? check.result : { ok: false as const, message: check.message };
  if (!r.ok) {
    return (
      <p id={id} className="field-error field-note" data-testid="wizard-recipe-check" data-state="error" role="alert">
        {r.message}
      </p>
    );
  }
  const what = r.kind === 'image' ? `an ee.Image${r.bands.length ? `: ${r.bands.map((b) => `${b.id} (${b.type})`).join(', ')}` : ''}` : `an ee.FeatureCollection${r.features ? ` of ${r.features} feature(s)` : ''}`;
  return (
    <p id={id} className="field-ok field-note" data-testid="wizard-recipe-check" data-state="ok" role="status">
      ✓ {r.label}: tile {r.tile} builds {what}
      {r.note ? ` (${r.note})` : ''}
      {r.logs.length > 0 && <span className="muted"> · {r.logs.length} printed line(s)</span>}
    </p>
  );
}

/**
 * Where a new job goes when the user does not say: `<folder>/<name>.json` with the outputs in
 * `<name>-output` beside it (relative, so it follows the job file). The folder is the ROI's, except for a
 * file sent from the browser (kept in tessera serve's uploads folder): then `<data folder>/jobs`.
 */
export function jobDefaults(name: string, roi: string): { file: string; output: string } | undefined {
  if (!/^[A-Za-z0-9-]{1,40}$/.test(name) || !roi.startsWith('/')) return undefined;
  const uploads = roi.lastIndexOf('/uploads/');
  const folder = uploads >= 0 ? `${roi.slice(0, uploads)}/jobs` : roi.slice(0, roi.lastIndexOf('/')) || '/';
  return { file: `${folder.replace(/\/$/, '')}/${name}.json`, output: `${name}-output` };
}
