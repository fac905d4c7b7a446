import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { serve, type ServerType } from '@hono/node-server';
import { Sha256 } from '@smithy/core/checksum';
import { buildQueryString, HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hono } from 'hono';
import { DomainError } from '../../../core/errors.ts';
import { DEFAULT_REGION } from '../../../domain/iam/arn.ts';
import type { SecretLookup } from '../../../domain/iam/sigv4.ts';
import { sigv4, type SigV4Env } from './index.ts';

const KEY = { accessKeyId: 'AKIDMIDDLEWARE', secretAccessKey: 'middleware/secret+KEY' };
const PRINCIPAL = 'arn:aws:iam::000000000000:user/alice';
const lookupSecret: SecretLookup = (id) =>
  id === KEY.accessKeyId ? { secretAccessKey: KEY.secretAccessKey, principal: PRINCIPAL } : undefined;
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9]);

/** A route behind the middleware that echoes who called and reads the body again. */
function testApp(now: () => number): Hono<SigV4Env> {
  const app = new Hono<SigV4Env>();
  app.onError((error, c) => {
    if (error instanceof DomainError) return c.json({ code: error.code, message: error.message }, 403);
    return c.json({ code: 'Bug', message: String(error) }, 500);
  });
  app.use(sigv4({ lookupSecret, now, service: 'sagemaker', region: DEFAULT_REGION }));
  app.all('*', async (c) =>
    c.json({
      principal: c.get('principal'),
      accessKeyId: c.get('accessKeyId'),
      bodyBytes: (await c.req.arrayBuffer()).byteLength,
      path: c.req.path,
    }),
  );
  return app;
}

const signer = new SignatureV4({ service: 'sagemaker', region: 'us-east-1', credentials: KEY, sha256: Sha256 });
const WRONG_REGION =
  "Credential should be scoped to a valid region, not 'eu-west-1'. This server's region is 'us-east-1': sign the request for that region.";

describe('sigv4 middleware in-process (app.request)', () => {
  const signedAt = Date.UTC(2024, 4, 1, 12, 0, 0);
  const app = testApp(() => signedAt);

  it('verifies an SDK-signed request and exposes the principal; the route can read the body again', async () => {
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: 'localhost',
        path: '/endpoints/my-endpoint/invocations',
        query: { a: 'b c' },
        headers: { host: 'localhost', 'content-type': 'image/jpeg' },
        body: JPEG,
      }),
      { signingDate: new Date(signedAt) },
    );
    const response = await app.request(`/endpoints/my-endpoint/invocations?${buildQueryString(signed.query ?? {})}`, {
      method: 'POST',
      headers: signed.headers,
      body: JPEG,
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      principal: PRINCIPAL,
      accessKeyId: KEY.accessKeyId,
      bodyBytes: JPEG.byteLength,
      path: '/endpoints/my-endpoint/invocations',
    });
  });

  it("refuses a request signed correctly but for another region than the server's", async () => {
    const request = new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: 'localhost',
      path: '/endpoints/my-endpoint/invocations',
      headers: { host: 'localhost', 'content-type': 'image/jpeg' },
      body: JPEG,
    });
    const signedFor = (region: string) =>
      new SignatureV4({ service: 'sagemaker', region, credentials: KEY, sha256: Sha256 }).sign(request, {
        signingDate: new Date(signedAt),
      });
    const send = async (region: string) => {
      const signed = await signedFor(region);
      return app.request('/endpoints/my-endpoint/invocations', { method: 'POST', headers: signed.headers, body: JPEG });
    };
    const refused = await send('eu-west-1');
    assert.equal(refused.status, 403);
    assert.deepEqual(await refused.json(), { code: 'InvalidSignature', message: WRONG_REGION });
    assert.equal((await send('us-east-1')).status, 200);
  });

  it('throws MissingAuthenticationToken for an unsigned request, before the route runs', async () => {
    const response = await app.request('/endpoints/my-endpoint/invocations', { method: 'POST', body: JPEG });
    assert.equal(response.status, 403);
    assert.equal(((await response.json()) as { code: string }).code, 'MissingAuthenticationToken');
  });
});

describe('sigv4 middleware over HTTP (@hono/node-server on port 0)', () => {
  let server: ServerType;
  let port: number;

  before(async () => {
    const app = testApp(() => Date.now());
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
        port = info.port;
        resolve();
      });
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('accepts InvokeEndpoint from the real SageMaker Runtime client', async () => {
    const client = new SageMakerRuntimeClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: KEY,
      maxAttempts: 1,
    });
    try {
      const result = await client.send(
        new InvokeEndpointCommand({ EndpointName: 'my-endpoint', ContentType: 'image/jpeg', Body: JPEG }),
      );
      const body = JSON.parse(new TextDecoder().decode(result.Body));
      assert.deepEqual(body, {
        principal: PRINCIPAL,
        accessKeyId: KEY.accessKeyId,
        bodyBytes: JPEG.byteLength,
        path: '/endpoints/my-endpoint/invocations',
      });
    } finally {
      client.destroy();
    }
  });

  it('rejects the real client when its secret is wrong', async () => {
    const client = new SageMakerRuntimeClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { ...KEY, secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    try {
      await assert.rejects(
        client.send(new InvokeEndpointCommand({ EndpointName: 'my-endpoint', ContentType: 'image/jpeg', Body: JPEG })),
        (error: { $metadata?: { httpStatusCode?: number }; message?: string }) =>
          error.$metadata?.httpStatusCode === 403 && /does not match the signature/.test(error.message ?? ''),
      );
    } finally {
      client.destroy();
    }
  });

  it('refuses the real client and a presigned URL when they sign for another region', async () => {
    const client = new SageMakerRuntimeClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'eu-west-1',
      credentials: KEY,
      maxAttempts: 1,
    });
    try {
      await assert.rejects(
        client.send(new InvokeEndpointCommand({ EndpointName: 'my-endpoint', ContentType: 'image/jpeg', Body: JPEG })),
        (error: { $metadata?: { httpStatusCode?: number }; message?: string }) =>
          error.$metadata?.httpStatusCode === 403 && error.message === WRONG_REGION,
      );
    } finally {
      client.destroy();
    }
    const presigned = await new SignatureV4({ service: 'sagemaker', region: 'eu-west-1', credentials: KEY, sha256: Sha256 }).presign(
      new HttpRequest({
        method: 'GET',
        hostname: '127.0.0.1',
        port,
        path: '/endpoints/my-endpoint/invocations',
        headers: { host: `127.0.0.1:${port}` },
      }),
      { expiresIn: 300 },
    );
    const response = await fetch(`http://127.0.0.1:${port}${presigned.path}?${buildQueryString(presigned.query ?? {})}`);
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), { code: 'InvalidSignature', message: WRONG_REGION });
  });

  it('verifies against the request target as sent, not as URL parsing re-encodes it', async () => {
    // `{x}` travels raw; WHATWG URL parsing would turn it into %7Bx%7D and sign it differently.
    const rawPath = '/endpoints/{x}/invocations';
    const signed = await signer.sign(
      new HttpRequest({ method: 'GET', hostname: '127.0.0.1', port, path: rawPath, headers: { host: `127.0.0.1:${port}` } }),
    );
    const { status, body } = await rawHttpGet(port, rawPath, signed.headers);
    assert.equal(status, 200, body);
    assert.equal(JSON.parse(body).principal, PRINCIPAL);
  });

  it('accepts a presigned URL fetched as-is', async () => {
    const presigned = await signer.presign(
      new HttpRequest({
        method: 'GET',
        hostname: '127.0.0.1',
        port,
        path: '/endpoints/my-endpoint/invocations',
        query: { note: 'a b&c' },
        headers: { host: `127.0.0.1:${port}` },
      }),
      { expiresIn: 300 },
    );
    const response = await fetch(`http://127.0.0.1:${port}${presigned.path}?${buildQueryString(presigned.query ?? {})}`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { principal: string }).principal, PRINCIPAL);
  });

  it('accepts `curl --aws-sigv4 aws:amz:us-east-1:sagemaker` with a JPEG body', async (t) => {
    if (!(await curlSupportsSigV4())) {
      t.skip('curl with --aws-sigv4 is not installed');
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'kennel-sigv4-'));
    try {
      const file = join(dir, 'dog.jpg');
      await writeFile(file, JPEG);
      const url = `http://127.0.0.1:${port}/endpoints/my-endpoint/invocations`;
      const args = ['-sS', '--aws-sigv4', 'aws:amz:us-east-1:sagemaker', '--user', `${KEY.accessKeyId}:${KEY.secretAccessKey}`];
      const output = await run('curl', [...args, '--data-binary', `@${file}`, '-H', 'Content-Type: image/jpeg', url]);
      assert.deepEqual(JSON.parse(output), {
        principal: PRINCIPAL,
        accessKeyId: KEY.accessKeyId,
        bodyBytes: JPEG.byteLength,
        path: '/endpoints/my-endpoint/invocations',
      });
      const wrong = await run('curl', ['-sS', '--aws-sigv4', 'aws:amz:us-east-1:sagemaker', '--user', `${KEY.accessKeyId}:wrong`, '--data-binary', `@${file}`, url]);
      assert.equal(JSON.parse(wrong).code, 'InvalidSignature');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function run(command: string, args: string[]): Promise<string> {
  return promisify(execFile)(command, args, { timeout: 30_000 }).then((result) => result.stdout);
}

/** --aws-sigv4 arrived in curl 7.75; an older or missing curl skips the test. */
async function curlSupportsSigV4(): Promise<boolean> {
  const help = await run('curl', ['--help', 'all']).catch(() => '');
  return help.includes('--aws-sigv4');
}

/** node:http sends the path untouched, which fetch() would normalise. */
function rawHttpGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end();
  });
}
