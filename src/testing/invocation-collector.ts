import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CollectedCall {
  requestId: string;
  body: unknown;
}

/**
 * A small HTTP server test handlers report to (their sandbox lets them reach
 * the network, not the test's files): `POST /record` stores what a handler
 * sends; `POST /enter` and `POST /leave` count the handler's own concurrency,
 * so a test can see how many ran at once; `GET /seen/<id>` says whether a
 * request id was recorded before, for handlers that de-duplicate.
 */
export class InvocationCollector {
  readonly calls: CollectedCall[] = [];
  running = 0;
  maxRunning = 0;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<InvocationCollector> {
    const server = createServer();
    const collector = new InvocationCollector(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const url = request.url ?? '/';
        if (url === '/enter') {
          collector.running++;
          collector.maxRunning = Math.max(collector.maxRunning, collector.running);
        } else if (url === '/leave') {
          collector.running--;
        } else if (url === '/record') {
          const { requestId, body } = JSON.parse(text) as CollectedCall;
          collector.calls.push({ requestId, body });
        } else if (url.startsWith('/seen/')) {
          const id = decodeURIComponent(url.slice('/seen/'.length));
          response.end(JSON.stringify({ seen: collector.calls.some((call) => call.requestId === id) }));
          return;
        }
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return collector;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves once `count` calls were recorded, or rejects after `timeoutMs`. */
  async waitForCalls(count: number, timeoutMs = 30_000): Promise<CollectedCall[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.calls.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} recorded calls, got ${this.calls.length} in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return this.calls;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
