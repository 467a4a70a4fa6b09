import type { DriveFile } from './store';

/**
 * The `q` search language of Drive v3 files.list, as far as Tessera and the usual clients need it:
 * `'<id>' in parents`, `name`/`mimeType` with `=`, `!=`, `contains`, `fullText contains`, `trashed`,
 * `starred`, `createdTime`/`modifiedTime` comparisons, `'me' in owners`, `sharedWithMe`, combined with
 * `and`, `or`, `not` and parentheses. Anything else is a 400 like Drive's "Invalid Value".
 */
export class QueryError extends Error {}

export type Predicate = (f: DriveFile) => boolean;

export interface ParsedQuery {
  readonly test: Predicate;
  /** A folder every match must be in (from a top-level `'<id>' in parents`), to search only its children. */
  readonly parent: string | null;
}

type Token =
  | { kind: 'string'; value: string }
  | { kind: 'word'; value: string }
  | { kind: 'op'; value: '=' | '!=' | '<' | '<=' | '>' | '>=' }
  | { kind: '(' | ')' };

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= q.length) throw new QueryError('unterminated string');
        const d = q[i] as string;
        if (d === '\\' && i + 1 < q.length) {
          value += q[i + 1];
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      out.push({ kind: 'string', value });
    } else if (c === '(' || c === ')') {
      out.push({ kind: c });
      i++;
    } else if (c === '!' || c === '<' || c === '>' || c === '=') {
      const two = q.slice(i, i + 2);
      if (two === '!=' || two === '<=' || two === '>=') {
        out.push({ kind: 'op', value: two });
        i += 2;
      } else if (c === '!') {
        throw new QueryError("unexpected '!'");
      } else {
        out.push({ kind: 'op', value: c as '=' | '<' | '>' });
        i++;
      }
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(q.slice(i));
      if (!m) throw new QueryError(`unexpected '${c}'`);
      out.push({ kind: 'word', value: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

class Parser {
  private i = 0;
  /** Set when the top level is a conjunction holding `'<id>' in parents`. */
  parent: string | null = null;

  constructor(
    private readonly tokens: Token[],
    private readonly rootId: string,
  ) {}

  parse(): Predicate {
    const p = this.or(true);
    if (this.i < this.tokens.length) throw new QueryError('unexpected trailing input');
    return p;
  }

  private peekWord(w: string): boolean {
    const t = this.tokens[this.i];
    return t?.kind === 'word' && t.value.toLowerCase() === w;
  }

  private or(top: boolean): Predicate {
    const parts = [this.and(top)];
    while (this.peekWord('or')) {
      this.i++;
      parts.push(this.and(false));
    }
    if (parts.length > 1) this.parent = top ? null : this.parent;
    return parts.length === 1 ? (parts[0] as Predicate) : (f) => parts.some((p) => p(f));
  }

  private and(top: boolean): Predicate {
    const parts = [this.not(top)];
    while (this.peekWord('and')) {
      this.i++;
      parts.push(this.not(top));
    }
    return parts.length === 1 ? (parts[0] as Predicate) : (f) => parts.every((p) => p(f));
  }

  private not(top: boolean): Predicate {
    if (this.peekWord('not')) {
      this.i++;
      const inner = this.not(false);
      return (f) => !inner(f);
    }
    const t = this.tokens[this.i];
    if (t?.kind === '(') {
      this.i++;
      const inner = this.or(false);
      if (this.tokens[this.i]?.kind !== ')') throw new QueryError("missing ')'");
      this.i++;
      return inner;
    }
    return this.term(top);
  }

  private next(): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new QueryError('unexpected end of query');
    return t;
  }

  private term(top: boolean): Predicate {
    const first = this.next();
    if (first.kind === 'string') {
      // '<value>' in <collection>
      const kw = this.next();
      if (kw.kind !== 'word' || kw.value !== 'in') throw new QueryError("expected 'in'");
      const coll = this.next();
      if (coll.kind !== 'word') throw new QueryError('expected a field');
      const v = first.value;
      switch (coll.value) {
        case 'parents': {
          const id = v === 'root' ? this.rootId : v;
          if (top) this.parent ??= id;
          return (f) => f.parents.includes(id);
        }
        case 'owners':
        case 'writers':
        case 'readers':
          // One user owns everything; 'me' and the user's address both match.
          return () => v === 'me' || v.includes('@');
        default:
          throw new QueryError(`cannot search '${coll.value}' with 'in'`);
      }
    }
    if (first.kind !== 'word') throw new QueryError('expected a field');
    const field = first.value;
    const opTok = this.next();
    let op: string;
    if (opTok.kind === 'op') op = opTok.value;
    else if (opTok.kind === 'word' && (opTok.value === 'contains' || opTok.value === 'has')) op = opTok.value;
    else throw new QueryError('expected an operator');
    const valueTok = this.next();
    switch (field) {
      case 'name':
      case 'fullText':
      case 'mimeType':
      case 'description': {
        if (valueTok.kind !== 'string') throw new QueryError('expected a string');
        const v = valueTok.value;
        const get = (f: DriveFile): string => (field === 'mimeType' ? f.mimeType : field === 'description' ? (f.description ?? '') : f.name);
        if (op === 'contains') {
          if (field === 'mimeType') return (f) => f.mimeType.toLowerCase().includes(v.toLowerCase());
          if (field === 'fullText') return (f) => nameContains(f.name, v) || nameContains(f.description ?? '', v);
          return (f) => nameContains(get(f), v);
        }
        if (field === 'fullText' || field === 'description') throw new QueryError(`'${field}' supports only 'contains'`);
        if (op === '=') return (f) => get(f) === v;
        if (op === '!=') return (f) => get(f) !== v;
        throw new QueryError(`'${field}' does not support '${op}'`);
      }
      case 'trashed':
      case 'starred':
      case 'sharedWithMe': {
        if (valueTok.kind !== 'word' || (valueTok.value !== 'true' && valueTok.value !== 'false')) throw new QueryError('expected true or false');
        if (op !== '=' && op !== '!=') throw new QueryError(`'${field}' supports only = and !=`);
        const want = (valueTok.value === 'true') === (op === '=');
        return field === 'trashed' ? (f) => f.trashed === want : () => want === false;
      }
      case 'createdTime':
      case 'modifiedTime': {
        if (valueTok.kind !== 'string') throw new QueryError('expected a date string');
        const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(valueTok.value) ? valueTok.value : `${valueTok.value}Z`);
        if (!Number.isFinite(t)) throw new QueryError('invalid date');
        const get = (f: DriveFile): number => (field === 'createdTime' ? f.createdTime : f.modifiedTime);
        switch (op) {
          case '=': return (f) => get(f) === t;
          case '!=': return (f) => get(f) !== t;
          case '<': return (f) => get(f) < t;
          case '<=': return (f) => get(f) <= t;
          case '>': return (f) => get(f) > t;
          case '>=': return (f) => get(f) >= t;
          default: throw new QueryError(`'${field}' does not support '${op}'`);
        }
      }
      default:
        throw new QueryError(`cannot search '${field}'`);
    }
  }
}

/**
 * Drive's `name contains`: case-insensitive prefix matching of the name's tokens, not substring
 * search. 'HelloWorld' matches 'Hello' but not 'World'; 'bavaria_x1_y2.tif' matches 'bav', 'x1' and
 * 'bavaria_x1', because a token starts after any character that is not a letter or digit. (Google
 * documents only the first example; how it tokenises punctuation is this emulator's reading.)
 */
export function nameContains(name: string, value: string): boolean {
  const n = name.toLowerCase();
  const v = value.toLowerCase();
  if (v === '') return true;
  for (let i = 0; i <= n.length - v.length; i++) {
    const atTokenStart = i === 0 || !/[\p{L}\p{N}]/u.test(n[i - 1] as string);
    if (atTokenStart && n.startsWith(v, i)) return true;
  }
  return false;
}

/** `rootId` is the store's real root id, so `'root' in parents` finds files at the root. */
export function parseQuery(q: string | null, rootId: string): ParsedQuery {
  if (q === null || q.trim() === '') return { test: () => true, parent: null };
  const parser = new Parser(tokenize(q), rootId);
  const test = parser.parse();
  return { test, parent: parser.parent };
}
