import { useState } from 'react';

interface Props {
  ids: () => Iterable<string>;
  has: (id: string) => boolean;
  onSelect: (id: string) => void;
}

/** Type a tile id (docs/dashboard.md#job-progress-tile-details-tile-search `tile-search`): an exact id selects at once; Enter takes the first id starting with the text. */
export function TileSearch({ ids, has, onSelect }: Props) {
  const [text, setText] = useState('');
  const [miss, setMiss] = useState(false);
  const find = (value: string, prefix: boolean): string | undefined => {
    const v = value.trim();
    if (!v) return undefined;
    if (has(v)) return v;
    if (!prefix) return undefined;
    const lower = v.toLowerCase();
    for (const id of ids()) if (id.toLowerCase().startsWith(lower)) return id;
    return undefined;
  };
  return (
    <form
      className="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        const id = find(text, true);
        setMiss(!id);
        if (id) onSelect(id);
      }}
    >
      <input
        data-testid="tile-search"
        type="search"
        placeholder="Find a tile: x12_ym3"
        aria-label="Find a tile by id"
        spellCheck={false}
        autoComplete="off"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setMiss(false);
          const id = find(e.target.value, false);
          if (id) onSelect(id);
        }}
      />
      {miss && <span className="search-miss">no such tile</span>}
    </form>
  );
}
