import type { KeyboardEvent } from 'react';

/** The controls Tab can reach inside `root`, in order (hidden and disabled ones left out). */
export function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>('input, select, textarea, button, a[href], [tabindex]:not([tabindex="-1"])')].filter(
    (el) => !(el as HTMLInputElement).disabled && el.tabIndex >= 0 && el.getClientRects().length > 0,
  );
}

/**
 * Keeps Tab inside a modal: after the last control it goes to the first, Shift+Tab from the first to the
 * last. Call from the dialog's keydown handler.
 */
export function trapTab(e: KeyboardEvent<HTMLElement>): void {
  if (e.key !== 'Tab') return;
  const all = focusables(e.currentTarget);
  if (!all.length) return;
  const first = all[0]!;
  const last = all[all.length - 1]!;
  const at = document.activeElement;
  if (e.shiftKey && (at === first || !e.currentTarget.contains(at))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (at === last || !e.currentTarget.contains(at))) {
    e.preventDefault();
    first.focus();
  }
}
