import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DomainError, type ErrorCode } from '../../core/errors.ts';
import { DEFAULT_URL_FETCH_POLICY, type UrlFetchPolicy } from '../../domain/serving/url-policy.ts';
import { safeFetch, type ResolvedAddress } from './safe-fetch.ts';

/**
 * Everything here talks to one server on 127.0.0.1. Host names resolve only through
 * the injected lookup, so no test reaches DNS or any other address; refused
 * destinations are asserted to cost zero connections.
 */
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9]);
const SMALL_LIMIT = 1000;

let server: http.Server;
let port: number;
let connections = 0;
let lastHost: string | undefined;
const openSockets = new Set<Socket>();

before(async () => {
  server = http.createServer((request, response) => {
    lastHost = request.headers.host;
    const path = request.url ?? '/';
    if (path === '/dog.jpg') {
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': JPEG.length });
      response.end(JPEG);
    } else if (path === '/redirect-relative') {
      response.writeHead(302, { location: 'dog.jpg' });
      response.end();
    } else if (path.startsWith('/redirect-to?')) {
      response.writeHead(307, { location: new URLSearchParams(path.split('?')[1]).get('url')! });
      response.end();
    } else if (path === '/redirect-loop') {
      response.writeHead(301, { location: '/redirect-loop' });
      response.end();
    } else if (path === '/redirect-without-location') {
      response.writeHead(302);
      response.end();
    } else if (path === '/big-declared') {
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': SMALL_LIMIT + 1 });
      response.end(Buffer.alloc(SMALL_LIMIT + 1));
    } else if (path === '/big-chunked') {
      // No Content-Length: the limit must hold while streaming.
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      for (let i = 0; i < 20; i++) response.write(Buffer.alloc(100));
      response.end();
    } else if (path === '/exactly-limit') {
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      response.end(Buffer.alloc(SMALL_LIMIT, 7));
    } else if (path === '/stall-headers') {
      // Never answers; the client's deadline has to end it.
    } else if (path === '/stall-body') {
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': 100 });
      response.write(Buffer.alloc(10));
    } else if (path === '/cut-body') {
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': 100 });
      response.write(Buffer.alloc(10), () => response.socket?.destroy());
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('no such image');
    }
  });
  server.on('connection', (socket) => {
    connections++;
    openSockets.add(socket);
    socket.on('close', () => openSockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  for (const socket of openSockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  connections = 0;
  lastHost = undefined;
});

/** Allows the test server only; every other private address stays refused. */
const local = (overrides: Partial<UrlFetchPolicy> = {}): UrlFetchPolicy => ({
  ...DEFAULT_URL_FETCH_POLICY,
  allowPrivateCidrs: ['127.0.0.1/32'],
  ...overrides,
});

/** A resolver with fixed answers that records what it was asked; unknown names fail like NXDOMAIN. */
function fakeDns(answers: Record<string, string[]>) {
  const asked: string[] = [];
  const lookup = async (hostname: string): Promise<ResolvedAddress[]> => {
    asked.push(hostname);
    const addresses = answers[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { lookup, asked };
}

/** A lookup for tests that must never resolve anything. */
const noDns = fakeDns({});

async function fails(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${code}, but the fetch succeeded`);
}

describe('safeFetch: refused destinations make no connection', () => {
  it('refuses the loopback server under the default policy', async () => {
    await fails(safeFetch(`http://127.0.0.1:${port}/dog.jpg`, DEFAULT_URL_FETCH_POLICY, noDns), 'UrlRefused', /loopback/);
    await fails(safeFetch(`http://[::ffff:127.0.0.1]:${port}/dog.jpg`, DEFAULT_URL_FETCH_POLICY, noDns), 'UrlRefused');
    await fails(safeFetch(`http://2130706433:${port}/dog.jpg`, DEFAULT_URL_FETCH_POLICY, noDns), 'UrlRefused');
    assert.equal(connections, 0);
    assert.deepEqual(noDns.asked, []);
  });

  for (const [label, addresses, reason] of [
    ['loopback', ['127.0.0.1'], /loopback/],
    ['the cloud metadata address', ['169.254.169.254'], /link-local/],
    ['a private address', ['10.0.0.1'], /private/],
    ['an IPv4-mapped private address', ['::ffff:10.0.0.1'], /private/],
    ['one public and one private address', ['93.184.216.34', '10.0.0.1'], /private/],
    ['one private and one public address', ['192.168.1.20', '93.184.216.34'], /private/],
  ] as const) {
    it(`refuses a host name that resolves to ${label}`, async () => {
      const dns = fakeDns({ 'images.example.com': [...addresses] });
      const error = await fails(
        safeFetch(`http://images.example.com:${port}/dog.jpg`, DEFAULT_URL_FETCH_POLICY, dns),
        'UrlRefused',
        reason,
      );
      assert.match(error.message, /images\.example\.com: it resolves to/);
      for (const address of addresses) assert.ok(!error.message.includes(address), 'resolved addresses are not echoed');
      assert.equal(connections, 0);
      assert.deepEqual(dns.asked, ['images.example.com']);
    });
  }

  it('refuses a host outside the allow-list before resolving it', async () => {
    const dns = fakeDns({ 'other.example.org': ['127.0.0.1'] });
    await fails(
      safeFetch(`http://other.example.org:${port}/dog.jpg`, local({ allowHosts: ['images.example.com'] }), dns),
      'UrlRefused',
      /not one of the image hosts/,
    );
    assert.deepEqual(dns.asked, []);
    assert.equal(connections, 0);
  });

  it('reports a name that does not resolve', async () => {
    await fails(safeFetch('http://missing.example.com/dog.jpg', DEFAULT_URL_FETCH_POLICY, noDns), 'UrlFetchFailed', /could not be resolved/);
    assert.equal(connections, 0);
  });
});

describe('safeFetch: allowed fetches', () => {
  it('fetches from 127.0.0.1 once allowPrivateCidrs names it', async () => {
    const result = await safeFetch(`http://127.0.0.1:${port}/dog.jpg`, local(), noDns);
    assert.deepEqual(Buffer.from(result.bytes), JPEG);
    assert.equal(result.contentType, 'image/jpeg');
    assert.equal(result.finalUrl, `http://127.0.0.1:${port}/dog.jpg`);
    assert.equal(connections, 1);
  });

  it('connects to the address it checked, resolving the name only once', async () => {
    const dns = fakeDns({ 'images.example.com': ['127.0.0.1'] });
    const result = await safeFetch(`http://images.example.com:${port}/dog.jpg`, local({ allowHosts: ['images.example.com'] }), dns);
    assert.deepEqual(Buffer.from(result.bytes), JPEG);
    assert.deepEqual(dns.asked, ['images.example.com'], 'no second resolution for a rebinding answer to slip into');
    assert.equal(lastHost, `images.example.com:${port}`, 'the Host header keeps the name');
    assert.equal(connections, 1);
  });

  it('follows a relative redirect and reports the final URL', async () => {
    const result = await safeFetch(`http://127.0.0.1:${port}/redirect-relative`, local(), noDns);
    assert.deepEqual(Buffer.from(result.bytes), JPEG);
    assert.equal(result.finalUrl, `http://127.0.0.1:${port}/dog.jpg`);
    assert.equal(connections, 2);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const result = await safeFetch(`http://127.0.0.1:${port}/exactly-limit`, local({ maxBytes: SMALL_LIMIT }), noDns);
    assert.equal(result.bytes.byteLength, SMALL_LIMIT);
  });
});

describe('safeFetch: redirects are checked hop by hop', () => {
  const redirectTo = (url: string) => `http://127.0.0.1:${port}/redirect-to?url=${encodeURIComponent(url)}`;

  it('refuses a redirect to the metadata address without connecting to it', async () => {
    const error = await fails(
      safeFetch(redirectTo('http://169.254.169.254/latest/meta-data/'), local(), noDns),
      'UrlRefused',
      /redirected to a URL that is refused: .*link-local/,
    );
    assert.equal(error.details.redirectedFrom, `127.0.0.1:${port}`);
    assert.equal(connections, 1, 'only the allowed first hop connected');
  });

  it('refuses a redirect to a name that resolves to a private address', async () => {
    const dns = fakeDns({ 'internal.example.com': ['10.0.0.1'] });
    await fails(safeFetch(redirectTo('http://internal.example.com/'), local(), dns), 'UrlRefused', /private/);
    assert.deepEqual(dns.asked, ['internal.example.com']);
    assert.equal(connections, 1);
  });

  it('refuses a redirect to another scheme', async () => {
    await fails(safeFetch(redirectTo('file:///etc/passwd'), local(), noDns), 'UrlRefused', /redirected .* 'file:'/);
    assert.equal(connections, 1);
  });

  it('stops after maxRedirects', async () => {
    await fails(
      safeFetch(`http://127.0.0.1:${port}/redirect-loop`, local(), noDns),
      'UrlFetchFailed',
      /redirected more than 3 times/,
    );
    assert.equal(connections, 4, 'the first request and three redirects');
    await fails(safeFetch(`http://127.0.0.1:${port}/redirect-relative`, local({ maxRedirects: 0 }), noDns), 'UrlFetchFailed');
  });

  it('reports a redirect without a Location', async () => {
    await fails(safeFetch(`http://127.0.0.1:${port}/redirect-without-location`, local(), noDns), 'UrlFetchFailed', /HTTP 302 without a Location/);
  });
});

describe('safeFetch: failures end cleanly', () => {
  it('reports a non-2xx status', async () => {
    const error = await fails(safeFetch(`http://127.0.0.1:${port}/missing.jpg`, local(), noDns), 'UrlFetchFailed', /answered HTTP 404/);
    assert.equal(error.details.status, 404);
    assert.match(error.message, new RegExp(`^Could not fetch the image from 127\\.0\\.0\\.1:${port}`));
  });

  it('stops a body over maxBytes, declared or streamed, naming the limit', async () => {
    for (const path of ['/big-declared', '/big-chunked']) {
      await fails(
        safeFetch(`http://127.0.0.1:${port}${path}`, local({ maxBytes: SMALL_LIMIT }), noDns),
        'UrlFetchFailed',
        /larger than the limit of 1000 bytes/,
      );
    }
    const fits = await safeFetch(`http://127.0.0.1:${port}/big-chunked`, local({ maxBytes: 2000 }), noDns);
    assert.equal(fits.bytes.byteLength, 2000, 'the same streamed body passes a limit it fits');
  });

  it('gives up on a server that never answers, or never finishes the body', async () => {
    for (const path of ['/stall-headers', '/stall-body']) {
      const error = await fails(
        safeFetch(`http://127.0.0.1:${port}${path}`, local({ timeoutMs: 150 }), noDns),
        'UrlFetchFailed',
        /no complete answer within 150 ms/,
      );
      assert.equal(error.details.timeoutMs, 150);
    }
  });

  it('gives up on a resolver that never answers', async () => {
    const hanging = async (): Promise<ResolvedAddress[]> => new Promise(() => {});
    await fails(
      safeFetch('http://images.example.com/dog.jpg', local({ timeoutMs: 100 }), { lookup: hanging }),
      'UrlFetchFailed',
      /no complete answer within 100 ms/,
    );
    assert.equal(connections, 0);
  });

  it('reports a body cut short', async () => {
    await fails(safeFetch(`http://127.0.0.1:${port}/cut-body`, local(), noDns), 'UrlFetchFailed', /^Could not fetch the image from/);
  });

  it('reports a refused connection without internals', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await fails(
      safeFetch(`http://127.0.0.1:${closedPort}/dog.jpg`, local(), noDns),
      'UrlFetchFailed',
      /the connection was refused\.$/,
    );
    assert.ok(!/ECONNREFUSED|Error:|at /.test(error.message));
  });
});
