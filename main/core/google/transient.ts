/**
 * Earth Engine's client hands over only message strings (docs/earth-engine-client.md#errors), so "worth trying again" is
 * decided by wording: Google's messages for 5xx, 429 and quota rejections, network failures as the
 * client reports them, and EE's own retryable task failures.
 */
const TRANSIENT = new RegExp(
  [
    'HTTP code: (-1|5\\d\\d|429)\\b', // the client's text when a reply had no JSON message
    'Invalid JSON: Error: (connect|read|write|socket|getaddrinfo)', // network errors, as the client words them
    'ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up|fetch failed',
    // No HTTP answer at all is never the request's fault (docs/ownership.md, "Lost answers"): a clean
    // close, a headers or body timeout, DNS. FetchXhr reports them with status 0 as `Error: …`.
    '^Invalid JSON: Error: ',
    'other side closed|Headers Timeout|Body Timeout|UND_ERR_|ENOTFOUND|EAI_AGAIN',
    'HTTP code: 408\\b',
    'Internal error', // "Internal error." (task) and "Internal error encountered." (API)
    'Backend Error|backendError',
    'service is currently unavailable|Service Unavailable',
    'Deadline exceeded|deadline_exceeded',
    'Too Many Requests|RESOURCE_EXHAUSTED|Rate Limit Exceeded|Quota exceeded for quota metric',
    'Too many concurrent aggregations',
    'try again',
  ].join('|'),
  'i',
);

export function isTransientEeMessage(message: string): boolean {
  return TRANSIENT.test(message);
}
