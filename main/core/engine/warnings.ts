/**
 * Google's failures as people read them. Earth Engine's client and Drive hand over raw JSON bodies
 * (`{"error":{"code":429,"message":"Rate Limit Exceeded",…}}`) and, for a batched poll, one
 * `projects/…/operations/ID: message` line per operation. A warning becomes one line: the tile ids (not
 * operation names), Google's message once, and its HTTP status; repeats are rolled up (docs/everyday.md#warnings).
 */

const OPERATION = /projects\/[^/\s]+\/operations\/[A-Za-z0-9_-]+/g;

/** Google's JSON error body inside a message → "Rate Limit Exceeded (HTTP 429 RESOURCE_EXHAUSTED)". */
function unwrapJsonBodies(text: string): string {
  return text.replace(/\{"error":\s*(\{.*?\})\s*\}(?=$|[;\s.,)])/gs, (whole, inner: string) => {
    try {
      const e = JSON.parse(inner) as { code?: number; message?: string; status?: string };
      const status = [e.code !== undefined ? `HTTP ${e.code}` : '', e.status ?? ''].filter(Boolean).join(' ');
      return `${e.message ?? 'error'}${status ? ` (${status})` : ''}`;
    } catch {
      return whole;
    }
  });
}

/**
 * One readable line for a warning: JSON bodies unwrapped, operation names replaced by their tiles'
 * ids, the per-operation lines of a batched request grouped by message.
 */
export function readableWarning(message: string, tileOf: (operation: string) => string | undefined = () => undefined): string {
  const text = unwrapJsonBodies(message);
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const name = (op: string) => tileOf(op) ?? `an operation (${op.slice(op.lastIndexOf('/') + 1)})`;
  if (lines.length > 1 || OPERATION.test(text)) {
    OPERATION.lastIndex = 0;
    // "op: message" lines (a batched poll): group the tiles by message.
    const groups = new Map<string, string[]>();
    let tail = '';
    for (const line of lines) {
      const m = /^(projects\/[^/\s]+\/operations\/[A-Za-z0-9_-]+):\s*(.*)$/.exec(line);
      if (!m) {
        groups.set(line, groups.get(line) ?? []);
        continue;
      }
      let msg = m[2]!;
      const suffix = /;\s*trying again.*$/.exec(msg);
      if (suffix) [msg, tail] = [msg.slice(0, suffix.index), suffix[0]];
      groups.set(msg, [...(groups.get(msg) ?? []), name(m[1]!)]);
    }
    const parts = [...groups].map(([msg, tiles]) => (tiles.length ? `${listTiles(tiles)}: ${msg}` : msg));
    return (parts.join('; ') + tail).replace(OPERATION, (op) => name(op));
  }
  return text.replace(OPERATION, (op) => name(op));
}

function listTiles(ids: string[]): string {
  return ids.length <= 4 ? ids.join(', ') : `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more`;
}

/**
 * Rolls up repeated warnings: the first of a kind is shown, later ones with the same text (tile ids
 * aside) within `windowMs` are counted and come out as one line "… (×12, tiles …)" when the window
 * ends or at `flush()`. Bounded: at most `maxKinds` kinds are tracked at once.
 */
export class WarningRollup {
  private readonly kinds = new Map<string, { first: number; count: number; tiles: Set<string>; sample: string }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxKinds = 200,
    private readonly now: () => number = Date.now,
  ) {}

  /** The line to show now, or undefined when it only adds to a roll-up; also any roll-ups that are due. */
  add(line: string): string[] {
    const out = this.due();
    const { key, tiles } = kindOf(line);
    const k = this.kinds.get(key);
    if (k) {
      k.count++;
      for (const t of tiles) if (k.tiles.size < 1000) k.tiles.add(t);
      return out;
    }
    if (this.kinds.size >= this.maxKinds) out.push(...this.flush());
    this.kinds.set(key, { first: this.now(), count: 0, tiles: new Set(), sample: key });
    out.push(line);
    return out;
  }

  /** Roll-up lines of the kinds whose window has ended. */
  due(): string[] {
    const t = this.now();
    const out: string[] = [];
    for (const [key, k] of this.kinds) {
      if (t - k.first < this.windowMs) continue;
      if (k.count) out.push(summary(k));
      this.kinds.delete(key);
    }
    return out;
  }

  /** Every pending roll-up, now (the end of a run). */
  flush(): string[] {
    const out = [...this.kinds.values()].filter((k) => k.count).map(summary);
    this.kinds.clear();
    return out;
  }
}

const TILE_ID = /\bx(?:m?\d+)_y(?:m?\d+)(?:_q[0-3])*\b/g;

function kindOf(line: string): { key: string; tiles: string[] } {
  const tiles = line.match(TILE_ID) ?? [];
  const key = line.replace(TILE_ID, '…').replace(/…(?:, …| and \d+ more)+/g, '…');
  return { key, tiles };
}

function summary(k: { count: number; tiles: Set<string>; sample: string }): string {
  const tiles = [...k.tiles];
  const which = tiles.length ? `; tiles ${listTiles(tiles)}` : '';
  return `${k.sample} (×${k.count} more${which})`;
}
