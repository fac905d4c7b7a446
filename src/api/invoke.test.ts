import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import sharp from 'sharp';
import { signedFetch } from '../testing/signed-fetch.ts';
import { deploySmallClassifier, startTestKennel, type TestKennel } from '../testing/test-kennel.ts';

const execFileAsync = promisify(execFile);

/** A local image server that counts every TCP connection it accepts. */
async function imageServer(host: string, image: Uint8Array): Promise<{ server: Server; base: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.end(image);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((done) => server.listen(0, host, done));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://${host}:${port}`, connections: () => connections };
}

describe('InvokeEndpoint over HTTP', () => {
  let test: TestKennel;
  let jpeg: Uint8Array;
  let expectedLabel: string;
  let allowedImages: Awaited<ReturnType<typeof imageServer>>;
  let refusedImages: Awaited<ReturnType<typeof imageServer>>;

  const invoke = (body: Uint8Array | string, headers: Record<string, string>, endpoint = 'toy') =>
    signedFetch(`${test.url}/endpoints/${endpoint}/invocations`, { body, headers, service: 'sagemaker', credentials: test.credentials });

  before(async () => {
    // 127.0.0.2 is explicitly allowed; 127.0.0.1 stays refused like every other loopback address.
    test = await startTestKennel({ urlFetchPolicy: { allowPrivateCidrs: ['127.0.0.2/32'] } });
    await deploySmallClassifier(test);
    const classDir = join(test.home, 'toy-images', 'test', (await readdir(join(test.home, 'toy-images', 'test'))).sort()[1]);
    jpeg = await readFile(join(classDir, (await readdir(classDir)).sort()[0]));
    expectedLabel = classDir.split('/').at(-1)!.replace(/^\d+\./, '').replace(/_/g, ' ');
    allowedImages = await imageServer('127.0.0.2', jpeg);
    refusedImages = await imageServer('127.0.0.1', jpeg);
  });

  after(async () => {
    allowedImages?.server.close();
    refusedImages?.server.close();
    await test?.close();
  });

  it('classifies a JPEG: 200 with the top classes, most probable first', async () => {
    const response = await invoke(jpeg, { 'content-type': 'image/jpeg' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-amzn-invoked-production-variant'), 'AllTraffic');
    const body = (await response.json()) as { predictions: { label: string; index: number; probability: number }[]; model: string };
    assert.equal(body.model, 'toy');
    assert.equal(body.predictions.length, 4);
    assert.equal(body.predictions[0].label, expectedLabel);
    for (let i = 1; i < body.predictions.length; i++) {
      assert.ok(body.predictions[i - 1].probability >= body.predictions[i].probability);
    }
  });

  it('accepts PNG and application/x-image, and returns every class for top_k=all', async () => {
    const png = await sharp(jpeg).png().toBuffer();
    const response = await invoke(png, { 'content-type': 'image/png', 'x-amzn-sagemaker-custom-attributes': 'top_k=all' });
    assert.equal(response.status, 200);
    const { predictions } = (await response.json()) as { predictions: { probability: number }[] };
    assert.equal(predictions.length, 4);
    const total = predictions.reduce((sum, p) => sum + p.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `probabilities sum to ${total}`);
    const raw = await invoke(jpeg, { 'content-type': 'application/x-image', 'x-amzn-sagemaker-custom-attributes': 'top_k=1' });
    assert.equal(((await raw.json()) as { predictions: unknown[] }).predictions.length, 1);
  });

  it('answers a corrupt image with 424 ModelError carrying OriginalStatusCode 400', async () => {
    const response = await invoke(jpeg.slice(0, 200), { 'content-type': 'image/jpeg' });
    assert.equal(response.status, 424);
    assert.equal(response.headers.get('x-amzn-errortype'), 'ModelError');
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.OriginalStatusCode, 400);
    assert.match(String(body.Message), /decode/i);
  });

  it('answers garbage bodies and content types with clear ModelErrors', async () => {
    const cases: [string, string | Uint8Array, number][] = [
      ['text/plain', 'hello', 415],
      ['application/json', '{not json', 400],
      ['application/json', '{"link":"x"}', 400],
      ['image/jpeg', new Uint8Array(0), 400],
    ];
    for (const [contentType, body, original] of cases) {
      const response = await invoke(body, { 'content-type': contentType });
      assert.equal(response.status, 424, `${contentType} ${String(body)}`);
      const json = (await response.json()) as Record<string, unknown>;
      assert.equal(json.OriginalStatusCode, original, `${contentType} ${String(body)}`);
      assert.ok(String(json.Message).length > 10);
    }
  });

  it('answers an unknown endpoint with 400 ValidationError', async () => {
    const response = await invoke(jpeg, { 'content-type': 'image/jpeg' }, 'no-such-endpoint');
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('x-amzn-errortype'), 'ValidationError');
    assert.match(String(((await response.json()) as Record<string, unknown>).Message), /no-such-endpoint.*not found/);
  });

  it('answers a body over 6 MB with 413, and exactly 6 MB is still read', async () => {
    const response = await invoke(new Uint8Array(6 * 1024 * 1024 + 1), { 'content-type': 'image/jpeg' });
    assert.equal(response.status, 413);
    assert.equal(response.headers.get('x-amzn-errortype'), 'ValidationError');
    const atLimit = await invoke(new Uint8Array(6 * 1024 * 1024), { 'content-type': 'image/jpeg' });
    assert.equal(atLimit.status, 424, 'a 6 MB body reaches the model (and is not an image)');
  });

  it('checks Accept only for an endpoint that exists, and tags every answer with a request id', async () => {
    const unknown = await invoke(jpeg, { 'content-type': 'image/jpeg', accept: 'image/png' }, 'no-such-endpoint');
    assert.equal(unknown.status, 400);
    assert.match(unknown.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
    const png = await invoke(jpeg, { 'content-type': 'image/jpeg', accept: 'image/png' });
    assert.equal(png.status, 424);
    assert.equal(((await png.json()) as Record<string, unknown>).OriginalStatusCode, 406);
    const ok = await invoke(jpeg, { 'content-type': 'image/jpeg', accept: 'application/json' });
    assert.equal(ok.status, 200);
    assert.notEqual(ok.headers.get('x-amzn-requestid'), unknown.headers.get('x-amzn-requestid'));
  });

  it('refuses unsigned, wrongly signed and unknown-key requests with 403', async () => {
    const unsigned = await fetch(`${test.url}/endpoints/toy/invocations`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');

    const wrongSecret = await signedFetch(`${test.url}/endpoints/toy/invocations`, {
      body: jpeg,
      headers: { 'content-type': 'image/jpeg' },
      service: 'sagemaker',
      credentials: { ...test.credentials, secretAccessKey: 'x'.repeat(40) },
    });
    assert.equal(wrongSecret.status, 403);
    assert.equal(wrongSecret.headers.get('x-amzn-errortype'), 'InvalidSignatureException');

    const unknownKey = await signedFetch(`${test.url}/endpoints/toy/invocations`, {
      body: jpeg,
      headers: { 'content-type': 'image/jpeg' },
      service: 'sagemaker',
      credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: test.credentials.secretAccessKey },
    });
    assert.equal(unknownKey.status, 403);
    assert.equal(unknownKey.headers.get('x-amzn-errortype'), 'UnrecognizedClientException');
  });

  it('fetches {"url"} only from allowed addresses, refusing SSRF targets without connecting', async () => {
    const allowed = await invoke(JSON.stringify({ url: `${allowedImages.base}/dog.jpg` }), { 'content-type': 'application/json' });
    assert.equal(allowed.status, 200);
    assert.equal(((await allowed.json()) as { predictions: { label: string }[] }).predictions[0].label, expectedLabel);

    const port = new URL(refusedImages.base).port;
    const refused = [
      `${refusedImages.base}/dog.jpg`,
      `http://localhost:${port}/dog.jpg`,
      `http://2130706433:${port}/dog.jpg`,
      `http://0x7f000001:${port}/dog.jpg`,
      `http://0177.0.0.1:${port}/dog.jpg`,
      `http://127.1:${port}/dog.jpg`,
      `http://[::1]:${port}/dog.jpg`,
      `http://[::ffff:127.0.0.1]:${port}/dog.jpg`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/dog.jpg',
      'http://192.168.1.1/dog.jpg',
      'http://172.16.0.1/dog.jpg',
      'http://0.0.0.0/dog.jpg',
      `file:///etc/passwd`,
      `ftp://127.0.0.1/dog.jpg`,
      `gopher://127.0.0.1:${port}/_x`,
    ];
    for (const url of refused) {
      const response = await invoke(JSON.stringify({ url }), { 'content-type': 'application/json' });
      assert.equal(response.status, 424, url);
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(body.OriginalStatusCode, 403, `${url}: ${String(body.Message)}`);
    }
    assert.equal(refusedImages.connections(), 0);
  });

  it('an AWS SDK client in its own process gets the 413 for an oversized body and keeps running', async () => {
    const script = `
      import { SageMakerRuntimeClient, InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
      const client = new SageMakerRuntimeClient({ endpoint: process.env.URL, region: 'us-east-1', maxAttempts: 1,
        credentials: { accessKeyId: process.env.KEY, secretAccessKey: process.env.SECRET } });
      try {
        await client.send(new InvokeEndpointCommand({ EndpointName: 'toy', ContentType: 'image/jpeg', Body: Buffer.alloc(6291457) }));
      } catch (error) { console.log(error.name, error.$metadata?.httpStatusCode); }
      await new Promise((done) => setTimeout(done, 1000));
      console.log('still running');`;
    // Asynchronously: this process is also the server.
    const result = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, URL: test.url, KEY: test.credentials.accessKeyId, SECRET: test.credentials.secretAccessKey },
      encoding: 'utf8',
      timeout: 60_000,
    }).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
    assert.match(result.stdout, /ValidationError 413\nstill running/, result.stderr);
  });

  it('works with the AWS SDK for JavaScript v3 by changing only the endpoint URL', async () => {
    const client = new SageMakerRuntimeClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials });
    const answer = await client.send(new InvokeEndpointCommand({ EndpointName: 'toy', ContentType: 'image/jpeg', Body: jpeg }));
    const body = JSON.parse(new TextDecoder().decode(answer.Body)) as { predictions: { label: string }[] };
    assert.equal(body.predictions[0].label, expectedLabel);
    assert.equal(answer.InvokedProductionVariant, 'AllTraffic');

    await assert.rejects(
      client.send(new InvokeEndpointCommand({ EndpointName: 'toy', ContentType: 'image/jpeg', Body: new Uint8Array([1, 2, 3]) })),
      (error: Error & { OriginalStatusCode?: number }) => error.name === 'ModelError' && error.OriginalStatusCode === 400,
    );
    await assert.rejects(
      client.send(new InvokeEndpointCommand({ EndpointName: 'missing', ContentType: 'image/jpeg', Body: jpeg })),
      (error: Error) => error.name === 'ValidationError',
    );
    // Over the limit: the SDK reports the 413 instead of dying on a reset connection.
    await assert.rejects(
      client.send(new InvokeEndpointCommand({ EndpointName: 'toy', ContentType: 'image/jpeg', Body: new Uint8Array(6 * 1024 * 1024 + 1) })),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode === 413,
    );
    client.destroy();
  });
});
