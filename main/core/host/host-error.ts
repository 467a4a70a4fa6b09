import { RequestError } from '../errors';

/** A request the host refuses: `status` is the HTTP status a server answers with (main/core/errors.ts). */
export class HostError extends RequestError {
  constructor(status: 400 | 403 | 404 | 409 | 413, message: string) {
    super(status, message);
    this.name = 'HostError';
  }
}
