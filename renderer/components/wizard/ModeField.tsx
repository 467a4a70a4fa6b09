import { useId } from 'react';
import { largestDirectTile, REQUEST_MAX_BYTES, requestBytes } from '../../../shared/direct-limits';
import type { OutputShape } from '../../../shared/estimate';
import { formatBytes } from '../../format';

export type JobModeChoice = 'export' | 'direct' | 'auto';

interface Props {
  mode: JobModeChoice;
  choose: (mode: JobModeChoice) => void;
  /** The wizard's tile size (may be mid-typing: NaN or 0). */
  tilePixels: number;
  shape: OutputShape;
}

/**
 * How tiles are made (docs/direct-download.md): batch exports, direct requests, or direct with a fallback.
 * Next to it the size rule: a direct request carries at most 48 MiB, so a larger tile is split before sending.
 */
export function ModeField({ mode, choose, tilePixels, shape }: Props) {
  const id = useId();
  const side = Number.isInteger(tilePixels) && tilePixels > 0 ? tilePixels : undefined;
  const bytes = side ? requestBytes([side, side], shape) : undefined;
  const parts = bytes === undefined ? 1 : 4 ** Math.max(0, Math.ceil(Math.log2(side! / largestDirectTile(shape))));
  return (
    <div className="field">
      <label htmlFor={`${id}-mode`}>How tiles are made</label>
      <select id={`${id}-mode`} data-testid="wizard-mode" aria-describedby={`${id}-mode-hint`} value={mode} onChange={(e) => choose(e.target.value as JobModeChoice)}>
        <option value="export">export — batch exports (queue, then Drive)</option>
        <option value="direct">direct — computePixels, no queue, no Drive</option>
        <option value="auto">auto — direct; heavy tiles exported</option>
      </select>
      <span className="muted field-hint" id={`${id}-mode-hint`} data-testid="wizard-mode-note">
        A direct request carries at most {formatBytes(REQUEST_MAX_BYTES)} (pixels × bytes per pixel, plus one byte per band): with {shape.bands} band
        {shape.bands === 1 ? '' : 's'} {shape.dataType}, tiles up to {largestDirectTile(shape)} px fit.
        {bytes !== undefined && (bytes <= REQUEST_MAX_BYTES
          ? ` A ${side} px tile (~${formatBytes(bytes)}) is one request.`
          : ` A ${side} px tile (~${formatBytes(bytes)}) is split into ${parts} requests before sending${mode === 'export' ? ' in direct or auto mode' : ''}.`)}
      </span>
    </div>
  );
}
