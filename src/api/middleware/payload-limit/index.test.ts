import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { payloadLimit } from './index.ts';

const LIMIT = 1024;

/** A route behind the limit that says how many bytes of body it read. */
function testApp(): Hono {
  const app = new Hono();
  app.use(payloadLimit(LIMIT, (c) => c.json({ refused: true }, 413)));
  app.all('*', async (c) => c.json({ bodyBytes: (await c.req.arrayBuffer()).byteLength }));
  return app;
}

describe('payload limit, in process', () => {
  const app = testApp();

  it('lets a body of the limit through, whole', async () => {
    const response = await app.request('/', { method: 'POST', body: 'x'.repeat(LIMIT), headers: { 'content-length': String(LIMIT) } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { bodyBytes: LIMIT });
  });

  it('refuses a declared length over the limit with the caller’s error', async () => {
    const response = await app.request('/', { method: 'POST', body: 'x'.repeat(LIMIT + 1), headers: { 'content-length': String(LIMIT + 1) } });
    assert.equal(response.status, 413);
    assert.deepEqual(await response.json(), { refused: true });
  });

  it('counts a body of no declared length, and refuses it past the limit', async () => {
    const small = await app.request('/', { method: 'POST', body: 'x'.repeat(10) });
    assert.deepEqual(await small.json(), { bodyBytes: 10 });
    const large = await app.request('/', { method: 'POST', body: 'x'.repeat(LIMIT + 1) });
    assert.equal(large.status, 413);
  });

  it('passes a request with no body', async () => {
    const response = await app.request('/');
    assert.deepEqual(await response.json(), { bodyBytes: 0 });
  });
});

describe('payload limit, over HTTP', () => {
  let server: ServerType;
  let port: number;
  before(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: testApp().fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
        port = info.port;
        resolve();
      });
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Sends `chunks` one write at a time, with a Content-Length or (none given) chunked. */
  const post = (chunks: string[], contentLength?: number) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const request = http.request({ hostname: '127.0.0.1', port, method: 'POST', path: '/', headers: contentLength === undefined ? {} : { 'content-length': contentLength } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
      });
      request.on('error', reject);
      for (const chunk of chunks) request.write(chunk);
      request.end();
    });

  it('reads a body of the declared length whole', async () => {
    assert.deepEqual(await post(['x'.repeat(600), 'x'.repeat(424)], LIMIT), { status: 200, body: { bodyBytes: LIMIT } });
  });

  it('refuses a declared length over the limit, and a client that sends megabytes anyway still reads the 413', async () => {
    // More than the socket buffers hold: the client is still writing when the answer comes.
    const large = 8 * 1024 * 1024;
    assert.deepEqual(await post(['x'.repeat(large)], large), { status: 413, body: { refused: true } });
  });

  it('counts a chunked body and refuses it once it passes the limit', async () => {
    assert.deepEqual(await post(['x'.repeat(500), 'x'.repeat(500)]), { status: 200, body: { bodyBytes: 1000 } });
    assert.deepEqual(await post(['x'.repeat(600), 'x'.repeat(600)]), { status: 413, body: { refused: true } });
  });
});
