/**
 * The XMLHttpRequest surface the Earth Engine client reads (docs/earth-engine-client.md#transport): its
 * fields, callbacks and ready states. The transports put in the client's place — FetchXhr (over the
 * network) and a recipe's OfflineXhr (no network) — extend it and differ only in how a request is answered.
 */
export abstract class XhrBase {
  readyState = 0;
  status = 0;
  statusText = '';
  responseText = '';
  response = '';
  responseType = '';
  withCredentials = false;
  onreadystatechange: (() => void) | null = null;
  onload: (() => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  protected method = 'GET';
  protected url = '';

  protected setState(state: number): void {
    this.readyState = state;
    this.onreadystatechange?.();
  }
}
