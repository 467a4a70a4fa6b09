import { useEffect, useState, type ReactNode } from 'react';
import type { TesseraClient } from '../../api';
import { isServiceAccount, SERVICE_ACCOUNT_NOTE, type DestinationChoice } from './destination';

interface Props {
  client: TesseraClient;
  v: DestinationChoice;
  /** Sets one of the wizard's values. */
  choose: (k: keyof DestinationChoice, value: string) => void;
  /** The wizard's text field (label, error and hint as every other field). */
  input: (key: 'drive' | 'bucket' | 'prefix', label: string, errorKey: string, props?: Record<string, unknown>, hint?: string) => ReactNode;
}

/**
 * Where the exports go: a Drive folder or a Cloud Storage bucket + prefix (docs/cloud-storage.md). Signed
 * in as a service account, the wizard picks the bucket and says why (docs/service-accounts.md).
 */
export function DestinationFields({ client, v, choose, input }: Props) {
  const [serviceAccount, setServiceAccount] = useState(false);
  useEffect(() => {
    let live = true;
    void client.services
      ?.auth()
      .then((a) => {
        if (!live || !isServiceAccount(a.email)) return;
        setServiceAccount(true);
        choose('destType', 'gcs');
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
    // Once, when the wizard opens: the user's own choice afterwards stands.
  }, [client]);
  return (
    <>
      <div className="field" role="radiogroup" aria-label="Exports go to">
        <span>Exports go to</span>
        <span>
          <label>
            <input type="radio" name="wizard-destination" data-testid="wizard-dest-drive" checked={v.destType === 'drive'} onChange={() => choose('destType', 'drive')} /> Google Drive
          </label>{' '}
          <label>
            <input type="radio" name="wizard-destination" data-testid="wizard-dest-gcs" checked={v.destType === 'gcs'} onChange={() => choose('destType', 'gcs')} /> Cloud Storage bucket
          </label>
        </span>
      </div>
      {serviceAccount && (
        <p className="muted" role="note" data-testid="wizard-service-account-note">
          {SERVICE_ACCOUNT_NOTE}
        </p>
      )}
      {v.destType === 'drive'
        ? input('drive', 'Drive folder', 'drive.folder')
        : (
            <>
              {input('bucket', 'Cloud Storage bucket', 'destination.bucket', { placeholder: 'my-bucket' })}
              {input('prefix', 'Prefix in the bucket', 'destination.prefix', { placeholder: 'tessera/bavaria' }, 'optional: the start of every object name')}
            </>
          )}
    </>
  );
}
