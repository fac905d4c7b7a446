import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { listenRuntimeHttp, type RuntimeHttpServer, type RuntimeRequest } from './runtime-http.ts';

const MAX_BODY = 1024;

/** Sends bytes on a raw connection and returns everything that comes back until the server closes it, or until `until` matches. */
function exchange(address: string, bytes: string | Buffer, until?: RegExp): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host, () => socket.write(bytes));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (until?.test(received)) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

function statuses(received: string): number[] {
  return [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => Number(match[1]));
}

describe('the Runtime API’s HTTP server', () => {
  let server: RuntimeHttpServer;
  let seen: RuntimeRequest[];
  /** Requests to /hold are answered only when the test says so. */
  let held: RuntimeRequest[];

  beforeEach(async () => {
    seen = [];
    held = [];
    server = await listenRuntimeHttp(
      (req) => {
        seen.push(req);
        if (req.path === '/hold') return void held.push(req);
        const body = req.body === 'too-large' ? 'too-large' : `${req.method} ${req.path} ${req.body.toString('utf8')}`;
        req.reply(req.body === 'too-large' ? 413 : 200, { 'Content-Type': 'text/plain' }, body);
      },
      { maxBodyBytes: MAX_BODY, maxConnections: 4 },
    );
  });

  afterEach(() => server.close());

  it('serves node:http’s own client on a kept-alive connection', async () => {
    const [host, port] = server.address.split(':');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = (body: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request({ host, port: Number(port), method: 'POST', path: '/echo?x=1', agent }, (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        });
        req.on('error', reject);
        req.end(body);
      });
    assert.equal(await call('one'), '200 POST /echo one');
    assert.equal(await call('two'), '200 POST /echo two');
    assert.equal(new Set(seen.map((req) => req.connection)).size, 1, 'both requests came on one connection');
    agent.destroy();
  });

  it('reads a chunked body, with chunk extensions and trailers', async () => {
    const received = await exchange(
      server.address,
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' + '3;ext=1\r\nabc\r\n' + '2\r\nde\r\n' + '0\r\nX-Trailer: t\r\n\r\n',
      /POST \/echo abcde$/,
    );
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nPOST \/echo abcde$/);
  });

  it('answers pipelined requests in order, in one write', async () => {
    const [host, port] = server.address.split(':');
    const socket = connect(Number(port), host);
    const writes: string[] = [];
    socket.on('data', (chunk) => writes.push(chunk.toString('latin1')));
    socket.write('POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\n1POST /b HTTP/1.1\r\nContent-Length: 1\r\n\r\n2GET /c HTTP/1.1\r\n\r\n');
    while (!writes.join('').includes('GET /c')) await new Promise((resolve) => setImmediate(resolve));
    socket.destroy();
    const text = writes.join('');
    assert.ok(text.indexOf('POST /a 1') < text.indexOf('POST /b 2') && text.indexOf('POST /b 2') < text.indexOf('GET /c'), text);
    assert.equal(writes.length, 1, 'the three replies left in one write');
  });

  it('reads nothing behind a held request until it is answered, then carries on', async () => {
    const [host, port] = server.address.split(':');
    const socket = connect(Number(port), host);
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.write('GET /hold HTTP/1.1\r\n\r\nPOST /after HTTP/1.1\r\nContent-Length: 2\r\n\r\nok');
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(seen.map((req) => req.path), ['/hold'], 'the request behind the held one waits');
    held[0]!.reply(200, {}, 'held');
    while (!received.includes('POST /after ok')) await new Promise((resolve) => setImmediate(resolve));
    socket.destroy();
    assert.ok(received.indexOf('held') < received.indexOf('POST /after ok'));
  });

  it('sends 100 Continue for Expect: 100-continue, behind the replies before it', async () => {
    const [host, port] = server.address.split(':');
    const socket = connect(Number(port), host);
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.write('GET /first HTTP/1.1\r\n\r\nPOST /second HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n');
    while (!received.includes('100 Continue')) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(statuses(received), [200, 100]);
    socket.write('abc');
    while (!received.includes('POST /second abc')) await new Promise((resolve) => setImmediate(resolve));
    socket.destroy();
    assert.deepEqual(statuses(received), [200, 100, 200]);
  });

  it('closes after the reply for HTTP/1.0 without keep-alive and for Connection: close', async () => {
    const old = await exchange(server.address, 'GET /old HTTP/1.0\r\n\r\n');
    assert.match(old, /^HTTP\/1\.1 200[\s\S]*Connection: close\r\n/);
    const closing = await exchange(server.address, 'GET /close HTTP/1.1\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n');
    assert.deepEqual(statuses(closing), [200]);
    assert.deepEqual(seen.map((req) => req.path), ['/old', '/close']);
  });

  it('takes an absolute-form target and skips empty lines between requests', async () => {
    const received = await exchange(server.address, '\r\n\r\nGET http://127.0.0.1:9001/abs?q=1 HTTP/1.1\r\n\r\n', /GET \/abs $/);
    assert.match(received, /GET \/abs $/);
  });

  it('hands over a body over the limit as too-large and closes the connection, declared or streamed', async () => {
    const declared = await exchange(server.address, `POST /big HTTP/1.1\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n`);
    assert.deepEqual(statuses(declared), [413]);
    assert.match(declared, /Connection: close/);
    const chunk = 'x'.repeat(600);
    const streamed = await exchange(server.address, `POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`);
    assert.deepEqual(statuses(streamed), [413]);
    assert.deepEqual(seen.map((req) => req.body), ['too-large', 'too-large']);
  });

  const refused: Array<[string, string, number, RegExp]> = [
    ['junk', 'this is not http\r\n\r\n', 400, /not HTTP\/1\.1/],
    ['both Content-Length and Transfer-Encoding', 'POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, /Both Content-Length and Transfer-Encoding/],
    ['an unknown transfer coding', 'POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 400, /Transfer-Encoding gzip is not supported/],
    ['a Content-Length that is not a number', 'POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400, /Content-Length "-1" is not a length/],
    ['two different Content-Lengths', 'POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, /Content-Length is given twice/],
    ['a header line without a name', 'GET /x HTTP/1.1\r\n: value\r\n\r\n', 400, /A header line is malformed/],
    ['a chunk size that is not hex', 'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, /A chunk size is not hexadecimal/],
    ['an Expect it does not know', 'GET /x HTTP/1.1\r\nExpect: 200-ok\r\n\r\n', 417, /Expect: 200-ok is not supported/],
    ['a head over 16 KB', `GET /x HTTP/1.1\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431, /over 16384 bytes/],
    ['a head over 16 KB that never ends', `GET /x HTTP/1.1\r\nX-Big: ${'a'.repeat(17 * 1024)}`, 431, /over 16384 bytes/],
  ];
  for (const [what, bytes, status, message] of refused) {
    it(`refuses ${what} with ${status} and JSON, closes the connection and keeps serving`, async () => {
      const received = await exchange(server.address, bytes);
      assert.deepEqual(statuses(received), [status]);
      const body = JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) as { errorMessage: string; errorType: string };
      assert.equal(body.errorType, 'BadRequest');
      assert.match(body.errorMessage, message);
      assert.deepEqual(seen, [], 'nothing reached the handler');
      assert.match(await exchange(server.address, 'GET /still HTTP/1.1\r\n\r\n', /GET \/still $/), /^HTTP\/1\.1 200/);
    });
  }

  it('refuses a client that floods requests behind a held one', async () => {
    const flood = 'GET /x HTTP/1.1\r\n\r\n'.repeat(5000);
    const received = await exchange(server.address, 'GET /hold HTTP/1.1\r\n\r\n' + flood);
    assert.deepEqual(statuses(received), [400]);
    assert.match(received, /Too much was sent ahead of the reply/);
    assert.equal(held.length, 1);
    assert.equal(held[0]!.connection.open, false);
  });

  it('stops reading from a client that does not read its replies, and answers everything once it does', async () => {
    const [host, port] = server.address.split(':');
    const count = 400_000;
    const socket = connect(Number(port), host);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    socket.write('GET /x HTTP/1.1\r\n\r\n'.repeat(count));
    // Unread, the replies fill the socket buffers on both sides, and then the server waits.
    let handled = -1;
    while (handled !== seen.length) {
      handled = seen.length;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(handled < count / 2, `the server read ${handled} of ${count} requests without their replies being read`);
    let replies = 0;
    let tail = '';
    socket.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      replies += text.split('HTTP/1.1 200').length - 1;
      // Short of one whole status line, so none is counted twice.
      tail = text.slice(-11);
      if (replies >= count) socket.destroy();
    });
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    assert.equal(replies, count);
    assert.equal(seen.length, count);
  });

  it('tells an HTTP/1.0 client that asked for keep-alive that the connection stays', async () => {
    const received = await exchange(server.address, 'GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n');
    const [first, second] = received.split(/(?=HTTP\/1\.1 )/);
    assert.match(first!, /Connection: keep-alive\r\n[\s\S]*GET \/a $/);
    assert.match(second!, /Connection: close\r\n[\s\S]*GET \/b $/);
  });
});
