import { useId, useRef } from 'react';

interface Props {
  label: string;
  accept: string;
  testId: string;
  /** tessera serve: the file is sent (a page cannot learn a path). */
  canUpload: boolean;
  /** The desktop app: the system's open dialog gives a path. */
  canChoose: boolean;
  note?: string;
  error?: string;
  onFile: (file: File) => void;
  onChoose: () => void;
}

/** The wizard's way to pick a file besides typing its path: a file input (sent to tessera serve) or the system's dialog. */
export function FileChoice({ label, accept, testId, canUpload, canChoose, note, error, onFile, onChoose }: Props) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  if (!canUpload && !canChoose) return null;
  return (
    <div className="field file-choice">
      <label htmlFor={id}>{label}</label>
      {canChoose ? (
        <button type="button" id={id} data-testid={testId} onClick={onChoose}>
          Choose…
        </button>
      ) : (
        <input
          ref={input}
          id={id}
          type="file"
          accept={accept}
          data-testid={testId}
          aria-describedby={error || note ? `${id}-note` : undefined}
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) onFile(f);
            e.target.value = '';
          }}
        />
      )}
      {error ? (
        <span className="field-error" id={`${id}-note`} role="alert">
          {error}
        </span>
      ) : (
        note && (
          <span className="muted field-hint" id={`${id}-note`} role="status" data-testid={`${testId}-note`}>
            {note}
          </span>
        )
      )}
    </div>
  );
}
