import { TILE_STATES, type TileState } from '../../shared/contract';
import { formatCount } from '../format';
import { STATE_STYLES } from '../states';

interface Props {
  counts: Record<TileState, number>;
  /** Clicking a state with tiles selects the next tile in it (how to find the failed ones). */
  onPick?: (state: TileState) => void;
}

/** A colour per state and how many tiles are in it (docs/dashboard.md#legend: legend-<state>, legend-<state>-count). */
export function Legend({ counts, onPick }: Props) {
  const total = TILE_STATES.reduce((s, k) => s + (k === 'split' ? 0 : counts[k]), 0);
  return (
    <section className="panel legend" aria-label="Tiles by state">
      <h2>
        Tiles <span className="muted">{formatCount(total)}</span>
      </h2>
      <ul>
        {TILE_STATES.map((state) => {
          const style = STATE_STYLES[state];
          const n = counts[state];
          const cls = ['legend-entry', n ? '' : 'empty', state === 'failed' && n ? 'alarm' : ''].filter(Boolean).join(' ');
          return (
            <li key={state} data-testid={`legend-${state}`} className={cls} title={style.help}>
              <button type="button" disabled={!n || !onPick} onClick={() => onPick?.(state)} aria-label={`${state}: ${n} tiles${n ? ', show one' : ''}`}>
                <span
                  className={`swatch${style.dash ? ' dashed' : ''}`}
                  style={{ background: style.fillOpacity ? style.fill : 'transparent', borderColor: style.stroke }}
                />
                <span className="state-name">{style.label}</span>
                <span className="count" data-testid={`legend-${state}-count`}>
                  {n}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
