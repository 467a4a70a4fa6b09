import { createServer } from 'node:http';

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT/hook`: what a job's `notify.webhook` is set to. */
  readonly url: string;
  /** The JSON bodies received, in order. */
  readonly heard: unknown[];
  close(): Promise<void>;
}

/** A webhook endpoint on 127.0.0.1 that keeps every JSON body it is sent and answers "ok". */
export async function webhookReceiver(): Promise<WebhookReceiver> {
  const heard: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      heard.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    heard,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
