import { useEffect, useId, useRef, useState } from 'react';
import { NewJobRequestSchema, type GridPreview, type NewJobRequest } from '../../shared/dashboard';
import { describeParams, parsePresetParams, PRESET_NAMES, PRESETS, type PresetName } from '../../shared/recipes';
import type { TesseraClient } from '../api';
import { formatBytes, formatCount } from '../format';

interface Props {
  client: TesseraClient;
  onClose: () => void;
  onCreated: (name: string) => void;
}

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
 * The job wizard: a job file of CONTRACTS.md §5 without writing JSON. ROI file (path, or dropped from the
 * file manager in the desktop app) and its layer; CRS, pixel size and tile size with the live tile count,
 * pixel and byte estimates from the host's grid code; a preset recipe with its form rendered from the
 * preset's zod schema (shared/recipes.ts) or a custom recipe file; Drive and local folders, maxInFlight,
 * the Drive reserve and an EECU budget. The form is checked with NewJobRequestSchema (the host checks
 * the same schema, then the job as `tessera run` would); errors sit next to their fields.
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
    recipe: '' as '' | PresetName | 'file',
    recipeFile: '',
    drive: 'tessera',
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
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV((o) => ({ ...o, [k]: e.target.value }));
  const fields: Field[] = v.recipe && v.recipe !== 'file' ? describeParams(v.recipe) : [];

  useEffect(() => {
    const first = dialog.current?.querySelector<HTMLElement>('input, select, button');
    first?.focus();
  }, []);

  // The live grid: asked again 300 ms after the ROI or the grid changes.
  useEffect(() => {
    const scale = Number(v.scale);
    const tilePixels = Number(v.tilePixels);
    if (!v.roi.trim() || !(scale > 0) || !Number.isInteger(tilePixels) || tilePixels < 1 || !/^EPSG:\d{4,6}$/.test(v.crs.trim())) {
      setPreview(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      client.previewGrid({ roi: { path: v.roi.trim(), layer: v.layer || undefined }, grid: { crs: v.crs.trim(), scale, tilePixels } }).then(
        (p) => {
          if (!live) return;
          setPreview(p);
          setPreviewError(null);
        },
        (e: unknown) => {
          if (!live) return;
          setPreview(null);
          setPreviewError((e as Error).message);
        },
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, v.roi, v.layer, v.crs, v.scale, v.tilePixels]);

  const request = (): NewJobRequest => {
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
      start: true,
      job: {
        name: v.name.trim(),
        roi: { path: v.roi.trim(), ...(v.layer ? { layer: v.layer } : {}) },
        grid: { crs: v.crs.trim(), scale: Number(v.scale), tilePixels: Number(v.tilePixels) },
        ...(recipe ? { recipe } : {}),
        drive: { folder: v.drive.trim() },
        output: v.output.trim(),
        ...(v.maxInFlight.trim() ? { maxInFlight: Number(v.maxInFlight) } : {}),
        ...(reserve !== undefined ? { driveReserveBytes: Math.round(reserve * 1024 ** 3) } : {}),
        ...(num(v.eecuHours) !== undefined ? { eecuBudgetHours: num(v.eecuHours) } : {}),
      },
    };
  };

  const submit = async () => {
    setFailure(null);
    const req = request();
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
    setErrors(found);
    if (Object.keys(found).length) {
      dialog.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      return;
    }
    setBusy(true);
    try {
      const made = await client.createJob(req);
      onCreated(made.name);
    } catch (e) {
      setFailure((e as Error).message);
    } finally {
      setBusy(false);
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

  const onDrop = (e: React.DragEvent) => {
    e.preventDefault();
    const file = e.dataTransfer.files[0] as (File & { path?: string }) | undefined;
    if (file?.path) setV((o) => ({ ...o, roi: file.path!, layer: '' }));
    else if (file) setPreviewError(`${file.name}: the browser does not tell the file's path; type it (the desktop app takes dropped files)`);
  };

  return (
    <div className="wizard-backdrop">
      <div
        ref={dialog}
        className="wizard panel"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        data-testid="wizard"
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onClose();
          }
        }}
      >
        <h2 id={`${id}-title`}>New job</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
          noValidate
        >
          <fieldset>
            <legend>Region</legend>
            {input('name', 'Job name', 'name', {}, 'letters, digits and -')}
            <div className="dropzone" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
              {input('roi', 'ROI file (GeoPackage or GeoJSON, full path)', 'roi.path', { placeholder: '/data/area.gpkg' }, 'or drop the file here')}
            </div>
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
            <p className="grid-estimate" data-testid="wizard-estimate" data-layer={preview?.layer} role="status" aria-live="polite">
              {preview
                ? `${formatCount(preview.tiles)} tiles · ${formatCount(preview.pixelsPerTile)} px and ~${formatBytes(preview.bytesPerTile)} per tile · ~${formatBytes(preview.totalBytes)} in all`
                : previewError
                  ? ''
                  : 'The tile count appears once the ROI and the grid are set.'}
            </p>
            {preview?.overMaxPixels && (
              <p className="field-error" data-testid="wizard-maxpixels">
                A tile has {formatCount(preview.pixelsPerTile)} pixels, above maxPixels ({formatCount(preview.maxPixels)}): Earth Engine would refuse it. Use smaller tiles.
              </p>
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
            {v.recipe === 'file' && input('recipeFile', 'Recipe file', 'recipe.file')}
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
            {input('drive', 'Drive folder', 'drive.folder')}
            {input('output', 'Local folder for the outputs', 'output', { placeholder: '/data/out' }, 'relative paths start at the job file’s folder')}
            {input('file', 'Save the job file as', 'file', { placeholder: '/data/job.json' })}
          </fieldset>
          <fieldset>
            <legend>Limits</legend>
            {input('maxInFlight', 'Exports at once (maxInFlight)', 'maxInFlight', { inputMode: 'numeric' })}
            {input('reserveGb', 'Keep free in Drive (GB)', 'driveReserveBytes', { inputMode: 'decimal' }, 'optional')}
            {input('eecuHours', 'EECU budget (hours)', 'eecuBudgetHours', { inputMode: 'decimal' }, 'optional')}
          </fieldset>
          {failure && (
            <p className="field-error" role="alert" data-testid="wizard-failure">
              {failure}
            </p>
          )}
          <div className="wizard-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" data-testid="wizard-create" disabled={busy}>
              {busy ? 'Creating…' : 'Create and start'}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
