import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FileBody } from './http/file-body';
import { OAuthServer } from './auth/oauth';
import { SeededFaults } from './faults';
import { SimClock } from './clock';
import { DriveStore } from './drive/store';
import { driveRoutes } from './drive/routes';
import { ImageOutputProducer } from './ee/outputs';
import { ComputePixels } from './ee/compute-pixels';
import { eeRoutes } from './ee/routes';
import { AssetStore } from './ee/assets';
import { rfc3339, TaskEngine } from './ee/tasks';
import { boundaryOf, BatchError, buildBatchReply, parseBatch, type BatchAnswer } from './http/batch';
import { driveError, eeError, json, type Reply } from './http/reply';
import { Router, type EmuRequest, type Route } from './http/router';
import { lowerHeaders, MAX_BODY, readBody, send } from './http/transport';
import { applyPatch, liveOptions, OPTION_SPECS, OptionsError, parseOptions, type EmulatorConfig, type EmulatorOptions } from './options';
import type { PersistedMeta, Persistence, Snapshot } from './persist';
import { stateFile, stateOperation, type EmulatorState } from './state';
import { IdFactory, Rng } from './random';
import { syncDir, writePrivateFileSync } from '../common/atomic-write';
import { ServiceAccounts } from './auth/service-accounts';
import { ObjectStore } from './storage/store';
import { noBucket as storageNotFound, storageRoutes } from './storage/routes';

/** Changes that need no immediate write (request counters, fault draws, the clock) are written this late. */
const SOFT_FLUSH_MS = 500;
/** Options that belong to the process, not to the persisted state. */
const NOT_PERSISTED = new Set(['port', 'dataDir', 'catalogPath', 'serviceAccountKey']);

export type { EmulatorState, StateFile, StateObject, StateOperation } from './state';

/**
 * Everything behind the one port: the router, the services' state and the one lock that orders all
 * requests. Each EE or Drive request first brings the task queue up to the current simulated time, then
 * runs alone, so every answer sees one consistent world.
 */
export class Emulator {
  readonly clock: SimClock;
  readonly drive: DriveStore;
  readonly engine: TaskEngine;
  readonly oauth: OAuthServer;
  readonly assets: AssetStore;
  readonly objects: ObjectStore;
  readonly serviceAccounts: ServiceAccounts;
  private readonly producer: ImageOutputProducer;
  private readonly compute: ComputePixels;
  private readonly router = new Router();
  private readonly requests = new Map<string, number>();
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private stopping = false;
  private readonly faults: SeededFaults;
  private readonly internalRng: Rng;
  /** A change that must be written with the next flush even though no record changed (configuration). */
  private configChanged = false;
  private softTimer: NodeJS.Timeout | null = null;
  private softDue = false;
  private persistenceClosed = false;
  url = '';

  private constructor(
    private readonly box: { config: EmulatorConfig },
    readonly dataRoot: string,
    private readonly ownsDataRoot: boolean,
    private readonly catalogPath: string | null,
    oauth: OAuthServer,
    private readonly ids: IdFactory,
    private readonly persistence: Persistence | null,
    restored: Snapshot | null,
  ) {
    const config = box.config;
    this.clock = new SimClock(config.timeScale, Date.now, restored ? restored.meta.simulatedNow : undefined);
    this.oauth = oauth;
    // Drive's timestamps come from the simulated clock (docs/emulator.md#simulated-clock), at the instant the task queue has
    // reached: an export's files are created when its task succeeds, never before its createTime.
    this.drive = new DriveStore(`${dataRoot}/drive`, ids, () => this.config.driveQuotaBytes, () => (this.engine as TaskEngine | undefined)?.cursor ?? this.clock.now());
    this.drive.deferUnlinks = persistence !== null;
    this.producer = new ImageOutputProducer(`${dataRoot}/staging`, () => this.config.splitBytes, persistence !== null);
    const c = (): EmulatorConfig => this.config;
    this.faults = new SeededFaults(config.seed, liveOptions(c, ['http5xxRate', 'rateLimitRate', 'resetRate', 'truncateRate', 'lostAnswerRate', 'lostAnswerMode', 'latencyMs', 'failNext']));
    this.internalRng = new Rng(config.seed, 'internal-errors');
    const omitRng = new Rng(config.seed, 'omit-destination-uris');
    const compositeRng = new Rng(config.seed, 'composite-objects');
    // Cloud Storage's timeCreated comes from the simulated clock, like Drive's createdTime.
    this.objects = new ObjectStore(`${dataRoot}/storage`, () => bucketList(c().buckets), () => (this.engine as TaskEngine | undefined)?.cursor ?? this.clock.now(), persistence !== null);
    this.serviceAccounts = new ServiceAccounts(persistence !== null ? dataRoot : null);
    oauth.trustServiceAccounts(this.serviceAccounts, () => `${this.url}/token`);
    this.assets = new AssetStore(() => this.engine.cursor, `${dataRoot}/tables`, persistence !== null, () => this.config.maxAssets, () => this.config.dropFeatures);
    this.engine = new TaskEngine(
      this.clock,
      ids,
      this.internalRng,
      {
        ...liveOptions(c, ['slots', 'taskBaseSeconds', 'pixelsPerSecond', 'timeoutPixels', 'memoryPixels', 'internalErrorRate', 'internalMaxAttempts', 'dispatchSeconds', 'timeoutMessage']),
        omitDestinationUris: () => omitRng.chance(c().omitDestinationUrisRate),
        composite: () => compositeRng.chance(c().compositeRate),
      },
      this.drive,
      this.producer,
      (m) => this.log(m),
      this.assets,
      this.objects,
    );
    this.compute = new ComputePixels(
      liveOptions(c, ['computeMaxBytes', 'computeConcurrency', 'computePixelsPerSecond', 'computeTimeoutPixels', 'timeoutMessage']),
      `${dataRoot}/compute`,
      () => this.assets.lookup(),
    );
    this.router.add(
      ...eeRoutes(this.engine, { project: () => c().project, queueLimit: () => c().queueLimit, catalogPath: () => this.catalogPath }, this.assets, this.compute),
      { method: 'POST', template: '/batch', service: 'ee', handler: (req) => this.batch(req) },
      ...driveRoutes(this.drive, { listingDelaySeconds: () => c().driveListingDelaySeconds, now: () => this.engine.cursor }),
      ...this.oauthRoutes(),
      ...storageRoutes(this.objects, rfc3339),
    );
    if (restored) this.restore(restored);
  }

  /**
   * With `persisted`, the emulator continues the state a previous run left in that folder (or starts one
   * there); `config` is then the persisted configuration with the start options applied over it.
   */
  static async create(
    config: EmulatorConfig,
    dataRoot: string,
    ownsDataRoot: boolean,
    catalogPath: string | null,
    persisted: { store: Persistence; state: Snapshot | null } | null = null,
  ): Promise<Emulator> {
    // One box holds the live config: every part reads it at the moment it needs it.
    const box = { config };
    const ids = new IdFactory(config.seed);
    const restored = persisted?.state ?? null;
    // Outputs a killed run was writing: running tasks write theirs again on restore.
    await rm(`${dataRoot}/staging`, { recursive: true, force: true });
    const oauth = await OAuthServer.create(ids, {
      tokenLifetimeSeconds: () => box.config.tokenLifetimeSeconds,
      denyConsent: () => box.config.denyConsent,
      grantScopes: () => box.config.grantScopes,
      refreshTokenLifetimeSeconds: () => box.config.refreshTokenLifetimeSeconds,
    }, Date.now, restored?.auth);
    const emu = new Emulator(box, dataRoot, ownsDataRoot, catalogPath, oauth, ids, persisted?.store ?? null, restored);
    await emu.objects.load();
    // A fresh folder gets its first snapshot at once (it holds the signing key the journal never repeats).
    if (persisted && !restored) await persisted.store.writeSnapshot(emu.snapshot());
    return emu;
  }

  // ---- persistence -------------------------------------------------------------------------------------

  private restore(state: Snapshot): void {
    const m = state.meta;
    this.ids.rng.position = m.rng.ids;
    this.internalRng.position = m.rng.internal;
    this.faults.restore(m.rng.faults);
    this.drive.restore(m.driveRoot, state.files);
    this.engine.restore(state.ops, m.engine.seq, m.engine.cursor);
    this.assets.restore(state.assets ?? []);
    for (const [k, v] of Object.entries(m.requests)) this.requests.set(k, v);
  }

  private meta(): PersistedMeta {
    const config: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.config)) if (!NOT_PERSISTED.has(k)) config[k] = v;
    return {
      format: 1,
      config: config as Partial<EmulatorConfig>,
      simulatedNow: Math.max(this.clock.now(), this.engine.cursor),
      engine: { seq: this.engine.sequence, cursor: this.engine.cursor },
      rng: { ids: this.ids.rng.position, internal: this.internalRng.position, faults: this.faults.positions() },
      requests: Object.fromEntries(this.requests),
      driveRoot: { ...this.drive.root },
    };
  }

  /** Everything, for `state.json`. */
  private snapshot(): Snapshot {
    // The snapshot holds every record: what changed until now is in it.
    this.engine.takeChanged();
    this.drive.takeChanged();
    this.oauth.takeChanges();
    this.assets.takeChanged();
    return { meta: this.meta(), ops: [...this.engine.ops.values()], files: [...this.drive.everything()], auth: this.oauth.snapshot(), assets: this.assets.everything() };
  }

  /**
   * Writes what changed (called at the end of every exclusive section, so before the answer of the
   * request that changed it is sent). Without persistence it only releases deleted files' bytes.
   */
  private async flush(): Promise<void> {
    const store = this.persistence;
    if (!store || this.persistenceClosed) {
      this.engine.takeChanged();
      this.drive.takeChanged();
      this.oauth.takeChanges();
      this.assets.takeChanged();
      this.drive.drainUnlinks();
      return;
    }
    const ops = this.engine.takeChanged();
    const files = this.drive.takeChanged();
    const auth = this.oauth.takeChanges();
    const assets = this.assets.takeChanged();
    const hard = ops.length > 0 || files.length > 0 || auth !== null || assets.length > 0 || this.configChanged;
    if (!hard && !this.softDue) return;
    this.configChanged = false;
    this.softDue = false;
    // New Drive files were renamed into the blob folder: make those names durable before the journal says so.
    if (files.some((f) => f.blob !== null && f.deletedAt === null)) await syncDir(this.drive.blobDir);
    await store.append({
      meta: this.meta(),
      ...(ops.length ? { ops } : {}),
      ...(files.length ? { files } : {}),
      ...(auth ? { auth } : {}),
      ...(assets.length ? { assets } : {}),
    });
    this.drive.drainUnlinks();
    if (store.compactionDue) await store.writeSnapshot(this.snapshot());
  }

  /** Counters, fault draws and the clock are written within SOFT_FLUSH_MS, not before every answer. */
  private scheduleSoftFlush(): void {
    if (!this.persistence || this.softTimer || this.stopping) return;
    this.softTimer = setTimeout(() => {
      this.softTimer = null;
      this.softDue = true;
      void this.exclusive(() => undefined).catch((e: unknown) => this.log(e));
    }, SOFT_FLUSH_MS);
    this.softTimer.unref();
  }

  private get config(): EmulatorConfig {
    return this.box.config;
  }

  // ---- lifecycle ---------------------------------------------------------------------------------------

  async listen(port: number): Promise<string> {
    const server = createServer((req, res) => void this.serve(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // Answers are small or streamed; no request should wait on Node's default 5-minute timeouts.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.scheduleTimer();
    const keyPath = this.config.serviceAccountKey;
    if (keyPath) {
      const key = await this.serviceAccounts.create({ project: this.config.project ?? 'tessera-emulator', tokenUri: `${this.url}/token` });
      writePrivateFileSync(keyPath, `${JSON.stringify(key, null, 2)}\n`);
    }
    return this.url;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.compute.close();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.softTimer) clearTimeout(this.softTimer);
    this.softTimer = null;
    const server = this.server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of this.sockets) s.destroy();
      await closed;
    }
    await this.lock.catch(() => undefined);
    await this.engine.settle();
    if (this.persistence) {
      // Everything, as of now: the next start resumes here (simulated time included).
      await this.persistence.writeSnapshot(this.snapshot());
      this.drive.drainUnlinks();
      this.persistenceClosed = true;
      await this.persistence.close();
    }
    await this.producer.clear();
    if (this.ownsDataRoot) {
      await rm(this.dataRoot, { recursive: true, force: true });
    }
  }

  // ---- config and state --------------------------------------------------------------------------------

  getConfig(): EmulatorConfig {
    return { ...this.config };
  }

  /** Validates and applies a patch; start-only options (port, dataDir, seed, catalogPath) cannot change. */
  configure(patch: unknown): EmulatorConfig {
    const p: EmulatorOptions = parseOptions(patch);
    for (const spec of OPTION_SPECS) {
      const v = p[spec.key];
      if (spec.startOnly && v !== undefined && v !== this.config[spec.key]) throw new OptionsError(`emulator option "${spec.key}" cannot be changed while the emulator runs`);
    }
    const next = applyPatch(this.config, p);
    if (next.timeScale !== this.config.timeScale) this.clock.setTimeScale(next.timeScale);
    this.box.config = next;
    this.configChanged = true;
    // New slots or limits may let tasks start now; a new time scale moves the next event in real time.
    void this.sync().catch((e: unknown) => this.log(e));
    return this.getConfig();
  }

  state(): EmulatorState {
    const e = this.engine;
    const iso = (t: number | null): string | null => (t === null ? null : rfc3339(t));
    const operations = [...e.ops.values()].map((op) => stateOperation(e, op));
    const files = [...this.drive.everything()].map(stateFile);
    return {
      operations,
      files,
      assets: this.assets.everything().map((a) => ({ name: a.name, type: a.type, featureCount: a.featureCount, sizeBytes: a.sizeBytes, deletedAt: iso(a.deletedAt), ...(a.grid ? { dimensions: [a.grid.width, a.grid.height] as [number, number] } : {}) })),
      assetQuota: Object.fromEntries([...new Set(this.assets.everything().map((a) => /^projects\/([^/]+)\//.exec(a.name)?.[1] ?? ''))].filter((p) => p !== '').map((p) => [p, { ...this.assets.quota(p), maxAssets: this.assets.limit() }])),
      objects: this.objects.everything().map((o) => ({
        bucket: o.bucket, name: o.name, size: o.size, md5Hash: o.md5Hash, crc32c: o.crc32c, generation: o.generation,
        timeCreated: rfc3339(o.timeCreated), deletedAt: iso(o.deletedAt),
      })),
      quota: this.drive.quota(),
      requests: Object.fromEntries(this.requests),
      clock: { simulated: rfc3339(e.cursor), real: new Date().toISOString(), timeScale: this.clock.timeScale },
    };
  }

  /** Brings the task queue up to now (state() then shows the present). */
  async sync(): Promise<void> {
    await this.exclusive(() => this.engine.advanceTo(this.clock.now()));
  }

  // ---- request handling --------------------------------------------------------------------------------

  /** An emulator bug or an I/O failure: said on stderr, answered as Google's 500 where there is a request. */
  private log(e: unknown): void {
    process.stderr.write(`emulator: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  }

  /** Runs `fn` alone, then writes what it changed; every state change goes through here, in arrival order. */
  private exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const body = async (): Promise<T> => {
      try {
        return await fn();
      } finally {
        await this.flush();
      }
    };
    const run = this.lock.then(body, body);
    this.lock = run.then(
      () => this.scheduleTimer(),
      () => this.scheduleTimer(),
    );
    return run;
  }

  /** Wakes up at the next simulated event so Drive sees outputs appear even when nobody polls EE. */
  private scheduleTimer(): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.engine.nextEventTime();
    if (next === null) return;
    const delay = Math.min(2 ** 31 - 1, Math.max(1, Math.ceil(this.clock.realDelayUntil(next))));
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sync().catch((e: unknown) => this.log(e));
    }, delay);
    this.timer.unref();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(req);
      const request: EmuRequest = {
        method: (req.method ?? 'GET').toUpperCase(),
        path: url.pathname,
        query: url.searchParams,
        headers: lowerHeaders(req.headers),
        body: body ?? Buffer.alloc(0),
        params: {},
        inBatch: false,
      };
      if (body === null) reply = eeError(413, `Request payload size exceeds the limit: ${MAX_BODY} bytes.`);
      else if (request.path.startsWith('/__emulator/')) reply = await this.control(request);
      else {
        reply = await this.dispatch(request);
        this.scheduleSoftFlush();
      }
    } catch (e) {
      this.log(e);
      reply = eeError(500, 'Internal error encountered.');
    }
    send(res, reply);
  }

  /** Routes one request (top level or batch part), counting it under its route template. */
  private async dispatch(req: EmuRequest): Promise<Reply> {
    const match = this.router.match(req.method, req.path);
    const key = match ? `${req.method} ${match.route.template}` : `${req.method} (unmatched)`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (!match) return notFound(req);
    req.params = match.params;
    return this.handle(match.route, req);
  }

  private async handle(route: Route, req: EmuRequest): Promise<Reply> {
    const refused = await this.faults.before(route, req);
    if (refused) return refused;
    return this.faults.after(route, req, await this.run(route, req));
  }

  private async run(route: Route, req: EmuRequest): Promise<Reply> {
    if (route.service === 'oauth') return this.exclusive(() => route.handler(req));
    if (route.template === '/batch') return route.handler(req); // its parts take the lock one by one
    const caller = this.oauth.authenticate(req, route.service);
    if ('status' in caller) return caller;
    req.caller = caller;
    if (route.concurrent) return route.handler(req);
    return this.exclusive(async () => {
      await this.engine.advanceTo(this.clock.now());
      return route.handler(req);
    });
  }

  /** `POST /batch`: each part is dispatched (and counted, and authenticated) as its own request. */
  private async batch(req: EmuRequest): Promise<Reply> {
    const boundary = boundaryOf(req.headers['content-type']);
    if (!boundary) return eeError(400, 'Batch requests need Content-Type: multipart/mixed with a boundary.');
    let parts;
    try {
      parts = parseBatch(req.body, boundary);
    } catch (e) {
      if (e instanceof BatchError) return eeError(400, e.message);
      throw e;
    }
    const answers: BatchAnswer[] = [];
    for (const part of parts) {
      const url = new URL(part.target, 'http://127.0.0.1');
      const sub: EmuRequest = {
        method: part.method,
        path: url.pathname,
        query: url.searchParams,
        headers: part.headers,
        body: part.body,
        params: {},
        inBatch: true,
      };
      let r = await this.dispatch(sub);
      if (r.body instanceof FileBody) {
        r.body.destroy();
        r = eeError(400, 'Media downloads are not allowed in a batch request.');
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers ?? {})) if (k.toLowerCase() !== 'content-length') headers[k] = v;
      answers.push({ contentId: part.contentId, status: r.status, headers, body: r.body === undefined ? '' : r.body.toString() });
    }
    const outBoundary = `batch_${Math.random().toString(36).slice(2, 14)}`;
    return { status: 200, headers: { 'Content-Type': `multipart/mixed; boundary=${outBoundary}` }, body: buildBatchReply(answers, outBoundary) };
  }

  private oauthRoutes(): Route[] {
    const o = this.oauth;
    return [
      { method: 'GET', template: '/o/oauth2/v2/auth', service: 'oauth', handler: (r) => o.authorize(r) },
      { method: 'GET', template: '/o/oauth2/auth', service: 'oauth', handler: (r) => o.authorize(r) },
      { method: 'POST', template: '/token', service: 'oauth', handler: (r) => o.token(r) },
      { method: 'POST', template: '/revoke', service: 'oauth', handler: (r) => o.revoke(r) },
      { method: 'GET', template: '/tokeninfo', service: 'oauth', handler: (r) => o.tokenInfo(r) },
      { method: 'POST', template: '/tokeninfo', service: 'oauth', handler: (r) => o.tokenInfo(r) },
      { method: 'GET', template: '/oauth2/v3/tokeninfo', service: 'oauth', handler: (r) => o.tokenInfo(r) },
      { method: 'GET', template: '/oauth2/v3/userinfo', service: 'oauth', handler: (r) => o.userInfo(r) },
      { method: 'GET', template: '/oauth2/v1/certs', service: 'oauth', handler: () => o.pemCerts() },
      { method: 'GET', template: '/oauth2/v3/certs', service: 'oauth', handler: () => o.jwkCerts() },
      { method: 'GET', template: '/.well-known/openid-configuration', service: 'oauth', handler: () => o.discovery(this.url) },
    ];
  }

  // ---- /__emulator/* (no faults, no auth, not counted) ----------------------------------------------------

  private async control(req: EmuRequest): Promise<Reply> {
    const route = `${req.method} ${req.path}`;
    try {
      switch (route) {
        case 'GET /__emulator/config':
          return json(200, this.getConfig());
        case 'POST /__emulator/config': {
          let patch: unknown;
          try {
            patch = req.body.length ? JSON.parse(req.body.toString('utf8')) : {};
          } catch {
            return json(400, { error: { code: 400, message: 'the body must be a JSON object of emulator options' } });
          }
          return json(200, this.configure(patch));
        }
        case 'GET /__emulator/state':
          await this.sync();
          return json(200, this.state());
        case 'POST /__emulator/token': {
          // Test hook: an access token without the consent dance (scopes, email, lifetimeSeconds optional).
          const opts = req.body.length ? (JSON.parse(req.body.toString('utf8')) as Record<string, unknown>) : {};
          return json(200, this.oauth.mint({
            scopes: Array.isArray(opts.scopes) ? opts.scopes.filter((s): s is string => typeof s === 'string') : undefined,
            email: typeof opts.email === 'string' ? opts.email : undefined,
            clientId: typeof opts.clientId === 'string' ? opts.clientId : undefined,
            lifetimeSeconds: typeof opts.lifetimeSeconds === 'number' ? opts.lifetimeSeconds : undefined,
          }));
        }
        default:
          return json(404, { error: { code: 404, message: `no emulator control route ${route}` } });
      }
    } catch (e) {
      if (e instanceof OptionsError || e instanceof SyntaxError) return json(400, { error: { code: 400, message: e.message } });
      throw e;
    }
  }
}

function notFound(req: EmuRequest): Reply {
  const what = `${req.method} ${req.path}`;
  if (req.path.startsWith('/storage/') || req.path.startsWith('/upload/storage/')) return storageNotFound();
  if (req.path.startsWith('/drive/') || req.path.startsWith('/upload/')) {
    return driveError(404, `not emulated: ${what}`, { reason: 'notFound' });
  }
  return eeError(404, `not emulated: ${what}`);
}

/** The `buckets` option: a comma list or an array. */
function bucketList(v: string | readonly string[] | null): readonly string[] {
  if (v === null) return [];
  return (typeof v === 'string' ? v.split(',') : v).map((b) => b.trim()).filter(Boolean);
}
