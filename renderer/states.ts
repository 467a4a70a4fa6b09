import { TILE_STATES, type TileState } from '../shared/contract';

export interface StateStyle {
  label: string;
  /** What the state means, for the legend's tooltip. */
  help: string;
  fill: string;
  stroke: string;
  fillOpacity: number;
  weight: number;
  dash?: string;
}

/**
 * One colour per state (docs/states.md#tile-states). Work waiting is grey, work in Earth Engine blue, work in Drive
 * teal, done green; trouble is warm: retrying amber, failed red with a dark outline drawn above its
 * neighbours so it stands out at any zoom.
 */
export const STATE_STYLES: Record<TileState, StateStyle> = {
  pending: { label: 'pending', help: 'not sent to Earth Engine yet', fill: '#cbd5e1', stroke: '#94a3b8', fillOpacity: 0.35, weight: 0.6 },
  submitting: { label: 'submitting', help: 'export being sent', fill: '#c4b5fd', stroke: '#8b5cf6', fillOpacity: 0.5, weight: 0.8 },
  queued: { label: 'queued', help: 'waiting in Earth Engine', fill: '#a5b4fc', stroke: '#6366f1', fillOpacity: 0.55, weight: 0.8 },
  running: { label: 'running', help: 'running in Earth Engine', fill: '#3b82f6', stroke: '#1d4ed8', fillOpacity: 0.6, weight: 1 },
  exported: { label: 'exported', help: 'output ready in Drive', fill: '#67e8f9', stroke: '#0891b2', fillOpacity: 0.6, weight: 0.8 },
  downloading: { label: 'downloading', help: 'being downloaded', fill: '#22d3ee', stroke: '#0e7490', fillOpacity: 0.65, weight: 1 },
  verified: { label: 'verified', help: 'downloaded, size and MD5 checked; Drive being cleaned', fill: '#5eead4', stroke: '#0f766e', fillOpacity: 0.65, weight: 0.8 },
  done: { label: 'done', help: 'verified and cleaned up', fill: '#22c55e', stroke: '#15803d', fillOpacity: 0.55, weight: 0.6 },
  retrying: { label: 'retrying', help: 'failed for a passing reason; will be sent again', fill: '#fbbf24', stroke: '#b45309', fillOpacity: 0.7, weight: 1.2 },
  split: { label: 'split', help: 'too big: replaced by its four children', fill: '#e2e8f0', stroke: '#64748b', fillOpacity: 0, weight: 1, dash: '4 3' },
  failed: { label: 'failed', help: 'failed for good; retry or skip it', fill: '#ef4444', stroke: '#7f1d1d', fillOpacity: 0.8, weight: 2.5 },
  cancelled: { label: 'cancelled', help: 'cancelled', fill: '#64748b', stroke: '#334155', fillOpacity: 0.45, weight: 0.8 },
  skipped: { label: 'skipped', help: 'skipped on purpose', fill: '#f1f5f9', stroke: '#94a3b8', fillOpacity: 0.6, weight: 0.8, dash: '2 2' },
};

export { TILE_STATES };
export type { TileState };
