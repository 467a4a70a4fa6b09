import { useEffect, useId, useRef, type ReactNode } from 'react';
import { focusables, trapTab } from './focus';

interface Props {
  title: string;
  testid: string;
  onClose: () => void;
  children: ReactNode;
}

/**
 * A modal side panel over the right of the page (the map stays in view): labelled by its title, focus on
 * its first control when it opens, Tab kept inside, Escape closes (the opener takes the focus back).
 */
export function SidePanel({ title, testid, onClose, children }: Props) {
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = root.current;
    if (el) (focusables(el)[0] ?? el).focus();
  }, []);
  // Escape closes it wherever the focus is (a control that became disabled leaves the focus on the page).
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      e.preventDefault();
      close.current();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div className="side-dock">
      <div
        ref={root}
        className="side-panel panel"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        data-testid={testid}
        tabIndex={-1}
        onKeyDown={trapTab}
      >
        <div className="side-panel-head">
          <h2 id={`${id}-title`}>{title}</h2>
          <button type="button" className="close" aria-label={`Close ${title.toLowerCase()}`} onClick={onClose}>
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}
