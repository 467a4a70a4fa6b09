/**
 * Real `image:export` request bodies from the real client, without a network: `@google/earthengine` is
 * initialised against the emulator's own algorithm catalog through its built-in mock transport
 * (`ee.data.setupMockSend`), and the body is captured from that transport exactly as `task.start()` posts
 * it. Serving the emulator's catalog subset here also proves the subset is enough to build every image
 * the tests export.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { listAlgorithmsResponse } from '../../main/emulator/ee/algorithms';

/** The members of the client's API these tests use; add a name here to use another. */
type EeMember =
  | 'data' | 'apiclient' | 'setupMockSend' | 'initialize' | 'batch' | 'Export' | 'image' | 'toDrive' | 'start' | 'prototype'
  | 'Image' | 'ImageCollection' | 'Geometry' | 'Point' | 'Rectangle' | 'Filter' | 'lt' | 'gt' | 'Reducer' | 'percentile' | 'minMax'
  | 'filter' | 'filterDate' | 'filterBounds' | 'map' | 'first' | 'median' | 'mosaic' | 'reduce'
  | 'select' | 'rename' | 'addBands' | 'cat' | 'normalizedDifference' | 'copyProperties'
  | 'add' | 'subtract' | 'multiply' | 'divide' | 'and'
  | 'toInt16' | 'toFloat' | 'toDouble' | 'toByte' | 'toUint32' | 'int8'
  | 'updateMask' | 'unmask' | 'clip' | 'reproject';

/**
 * The client's fluent API, typed loosely (the package has no types): every member can be called,
 * constructed and read further.
 */
export type Ee = { (...args: unknown[]): Ee; new (...args: unknown[]): Ee } & { readonly [K in EeMember]: Ee };

interface MockResponse {
  text: string;
  status: number;
}
type MockHandler = (url: string, method: string, data: string) => MockResponse;

/** A base URL nothing answers: with the mock transport nothing is sent, and a slip would fail loudly. */
const BASE_URL = 'http://ee-emulator.invalid';
const REQUEST_ID = '0b7e8f43-2d0c-4c39-9a52-2c1c1f0e8d11';

let client: Promise<Ee> | undefined;
let lastExport: string | undefined;

function loadClient(): Promise<Ee> {
  const load = createRequire(path.resolve(__dirname, '../../package.json'));
  const ee = load('@google/earthengine') as Ee;
  const json = (text: string): MockResponse => ({ text, status: 200 });
  // setupMockSend strips the base URL and `v1/projects/earthengine-legacy/` from each request URL.
  const calls: Record<string, MockHandler> = {
    '/algorithms?prettyPrint=false': () => json(JSON.stringify(listAlgorithmsResponse())),
    '/image:export': (_url, _method, data) => {
      lastExport = data;
      return json(JSON.stringify({ name: 'projects/earthengine-legacy/operations/TESTOPERATION' }));
    },
  };
  ee.data.setupMockSend(calls);
  // The client spaces requests 350 ms apart (docs/earth-engine-client.md#request-throttle); nothing is sent here, so no need to wait.
  (ee.apiclient as unknown as { RequestThrottle: { interval_: number } }).RequestThrottle.interval_ = 1;
  return new Promise((resolve, reject) => {
    ee.initialize(BASE_URL, null, () => resolve(ee), (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
  });
}

/** The initialised client (once per test file: the client's state is global). */
export function eeClient(): Promise<Ee> {
  client ??= loadClient();
  return client;
}

/**
 * The JSON body `Export.image.toDrive({image, ...options}).start()` posts to
 * `/v1/projects/{p}/image:export`.
 */
export async function imageExportBody(build: (ee: Ee) => Ee, options: Record<string, unknown> = {}): Promise<unknown> {
  const ee = await eeClient();
  const image = build(ee);
  const task = ee.batch.Export.image.toDrive({ image, description: 'test', folder: 'tessera', ...options });
  // A caller-chosen requestId, as the engine sets it (docs/earth-engine-client.md#request-ids).
  (task as unknown as { id: string }).id = REQUEST_ID;
  lastExport = undefined;
  await new Promise<void>((resolve, reject) => {
    task.start(() => resolve(), (e: unknown) => reject(new Error(String(e))));
  });
  if (lastExport === undefined) throw new Error('the client posted no image:export request');
  return JSON.parse(lastExport) as unknown;
}
