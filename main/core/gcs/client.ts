import { Storage, type File, type StorageOptions } from '@google-cloud/storage';
import type { Readable } from 'node:stream';
import { UserError } from '../errors';
import { PreconditionFailed, type GcsObject, type GcsPort } from './port';

/**
 * Cloud Storage through Google's own client (`@google-cloud/storage` 7.x, docs/cloud-storage.md): listing
 * with its paging, ranged downloads, deletes and the lease's small text objects. With an emulator,
 * `apiEndpoint` is its URL and the client sends the same JSON API requests there.
 */
export interface GcsClientOptions {
  /** A valid access token (refreshed by the caller's session; `force` after a 401). */
  accessToken(force?: boolean): Promise<string>;
  /** The emulator's URL; absent: Google. */
  apiEndpoint?: string;
  projectId?: string;
  /**
   * The client's own retries of idempotent requests (429, 5xx, resets); the engine retries the rest next
   * cycle, and the requests before and after its loop (the lease) a few times (docs/transient-start.md).
   */
  retry?: { maxRetries: number; maxDelaySeconds: number };
  /**
   * A download that receives nothing for this long is broken off (default 60 s; the emulator: 1 s). The
   * client's stream never ends nor fails when a connection closes early mid-body, so Tessera watches it.
   */
  stallMs?: number;
  /**
   * A request whose answer (its headers; for JSON, the whole body) has not come after this long fails
   * and is retried like a 5xx (default 60 s, the client's documented default, which it drops when none is
   * given and then waits for ever; the emulator: 10 s).
   */
  requestTimeoutMs?: number;
}

/** Reads of a small object (the lease) before its error is reported. */
const SMALL_READ_ATTEMPTS = 3;

export class GcsClient implements GcsPort {
  private readonly storage: Storage;
  private readonly stallMs: number;

  constructor(o: GcsClientOptions) {
    this.stallMs = o.stallMs ?? 60_000;
    const options: StorageOptions = {
      projectId: o.projectId ?? 'tessera',
      timeout: o.requestTimeoutMs ?? 60_000,
      // The client's own auth library is an older major than Tessera's: hand it the bearer header only.
      authClient: bearerAuth(o.accessToken) as unknown as StorageOptions['authClient'],
      retryOptions: { autoRetry: (o.retry?.maxRetries ?? 3) > 0, maxRetries: o.retry?.maxRetries ?? 3, maxRetryDelay: o.retry?.maxDelaySeconds ?? 16, totalTimeout: 120 },
      ...(o.apiEndpoint ? { apiEndpoint: o.apiEndpoint.replace(/\/+$/, ''), useAuthWithCustomEndpoint: true } : {}),
    };
    this.storage = new Storage(options);
  }

  async list(bucket: string, prefix: string): Promise<GcsObject[]> {
    // autoPaginate follows nextPageToken to the end (Google caps a page at 1,000 items).
    const [files] = await this.storage.bucket(bucket).getFiles({ prefix, autoPaginate: true });
    return files.map((f) => objectOf(bucket, f));
  }

  async download(bucket: string, name: string, generation: string, start: number, signal?: AbortSignal): Promise<Readable> {
    const file = this.storage.bucket(bucket).file(name, { generation });
    // Tessera verifies the whole file itself (a resumed range cannot be checked by the client).
    const stream = file.createReadStream({ start, validation: false, decompress: false });
    watchStalls(stream, this.stallMs, name);
    if (signal) {
      const abort = (): void => void stream.destroy(new Error('the download was stopped'));
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', abort));
    }
    return stream;
  }

  async remove(bucket: string, name: string, generation?: string): Promise<void> {
    const file = this.storage.bucket(bucket).file(name, generation ? { generation } : {});
    // A delete whose answer was lost and that then answers 404 is done (docs/ownership.md, lost answers).
    await file.delete({ ignoreNotFound: true });
  }

  async readText(bucket: string, name: string): Promise<{ text: string; generation: string } | undefined> {
    const file = this.storage.bucket(bucket).file(name);
    try {
      const [meta] = await file.getMetadata();
      const generation = String(meta.generation);
      const bytes = await this.readSmall(bucket, name, generation, Number(meta.size ?? 0));
      return { text: bytes.toString('utf8'), generation };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  /**
   * A small object's bytes through the stall-watched stream: the client's own `download()` waits for ever
   * on a body cut short (docs/cloud-storage.md, "Downloads"), which would hang a run reading the lease of
   * a killed one. A short or broken read is tried again, a few times, then reported.
   */
  private async readSmall(bucket: string, name: string, generation: string, size: number): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of await this.download(bucket, name, generation, 0)) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        if (bytes.length !== size) throw new Error(`${name}: ${bytes.length} of ${size} bytes arrived`);
        return bytes;
      } catch (e) {
        if (statusOf(e) === 404) throw e;
        if (attempt >= SMALL_READ_ATTEMPTS) {
          // A connection reset says nothing of what was being read ("read ECONNRESET"): name the object.
          const message = (e as Error).message ?? String(e);
          throw message.includes(name) ? e : new Error(`${name}: ${message} (${attempt} tries)`, { cause: e });
        }
        // A pooled connection the server has just closed fails at once (ECONNRESET); the next may too.
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  }

  async writeText(bucket: string, name: string, text: string, ifGeneration?: string): Promise<GcsObject> {
    const file = this.storage.bucket(bucket).file(name);
    try {
      await file.save(text, {
        resumable: false,
        contentType: 'application/json',
        ...(ifGeneration !== undefined ? { preconditionOpts: { ifGenerationMatch: ifGeneration } } : {}),
      });
    } catch (e) {
      if (statusOf(e) === 412) throw new PreconditionFailed(`${name} was written by someone else meanwhile`);
      throw e;
    }
    return objectOf(bucket, file);
  }
}

/**
 * Breaks off a download that has received nothing for `ms` once its answer began (a connection closed
 * early mid-body leaves the client's stream open for ever): the error ends the consumer's read, and the
 * next attempt resumes from the bytes already on disk.
 */
function watchStalls(stream: Readable, ms: number, name: string): void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => stream.destroy(new Error(`${name}: no bytes for ${Math.round(ms / 1000)} s, the connection stalled; the download resumes from where it stopped`)), ms);
    timer.unref();
  };
  stream.once('response', arm);
  stream.on('data', arm);
  stream.once('close', () => timer && clearTimeout(timer));
}

/**
 * What the client's auth library calls on the client it is given: the request headers. Tessera's session
 * refreshes the token; this only hands it over as `Authorization: Bearer …`.
 */
function bearerAuth(accessToken: (force?: boolean) => Promise<string>) {
  return {
    getRequestHeaders: async (): Promise<Record<string, string>> => ({ Authorization: `Bearer ${await accessToken()}` }),
    getAccessToken: async (): Promise<{ token: string }> => ({ token: await accessToken() }),
    getCredentials: async (): Promise<Record<string, never>> => ({}),
  };
}

function objectOf(bucket: string, f: File): GcsObject {
  const m = f.metadata;
  return {
    bucket,
    name: f.name,
    size: Number(m.size ?? 0),
    ...(typeof m.md5Hash === 'string' ? { md5Hash: m.md5Hash } : {}),
    ...(typeof m.crc32c === 'string' ? { crc32c: m.crc32c } : {}),
    generation: String(m.generation ?? ''),
    ...(typeof m.timeCreated === 'string' ? { timeCreated: m.timeCreated } : {}),
    ...(typeof m.updated === 'string' ? { updated: m.updated } : {}),
  };
}

/**
 * A bucket the account cannot use, as one line for the user (exit 3: only they can fix it), or undefined
 * for any other error.
 */
export function bucketProblem(e: unknown, bucket: string): UserError | undefined {
  const status = statusOf(e);
  if (status === 404 && /bucket does not exist/i.test((e as Error).message)) return new UserError(`the Cloud Storage bucket ${bucket} does not exist (or this account cannot see it): create it, or fix "destination.bucket" in the job file; nothing was sent`, 3);
  if (status === 403) return new UserError(`this account may not use the Cloud Storage bucket ${bucket} (${(e as Error).message}): grant it "Storage Object Admin" on the bucket; nothing was sent`, 3);
  return undefined;
}

/** The HTTP status of a client error (ApiError's `code`), if it has one. */
export function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
