import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signedFetch } from '../../testing/signed-fetch.ts';
import { makeSmallDataset, startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';

describe('Kennel REST control plane over HTTP', () => {
  let test: TestKennel;
  const call = (method: string, path: string, body?: unknown) =>
    signedFetch(`${test.url}/kennel${path}`, {
      method,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      service: 'kennel',
      credentials: test.credentials,
    });
  const error = async (response: Response) => {
    const body = (await response.json()) as { code: string; message: string; details?: Record<string, unknown> };
    assert.equal(response.headers.get('x-amzn-errortype'), body.code);
    assert.match(response.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
    return body;
  };

  before(async () => {
    test = await startTestKennel();
    await makeSmallDataset(join(test.home, 'images'));
  });
  after(async () => test?.close());

  it('registers a dataset and reports its classes and counts', async () => {
    const response = await call('POST', '/datasets', { name: 'toy', path: join(test.home, 'images') });
    assert.equal(response.status, 201);
    const { dataset, report } = (await response.json()) as { dataset: { classes: string[] }; report: { totals: Record<string, number> } };
    assert.equal(dataset.classes.length, 4);
    assert.deepEqual(report.totals, { train: 48, valid: 16, test: 16 });
    const list = (await (await call('GET', '/datasets')).json()) as { datasets: { name: string }[] };
    assert.deepEqual(list.datasets.map((d) => d.name), ['toy']);
  });

  it('answers bad requests with 4xx errors that name the problem', async () => {
    const cases: [string, string, unknown, number, string, RegExp][] = [
      ['POST', '/datasets', '{not json', 400, 'ValidationError', /not valid JSON/],
      ['POST', '/datasets', { name: 'x' }, 400, 'ValidationError', /path/],
      ['POST', '/datasets', { name: 'x', path: '/tmp', extra: 1 }, 400, 'ValidationError', /extra/],
      ['POST', '/datasets', { name: 'bad name', path: '/tmp' }, 400, 'ValidationError', /name/],
      ['POST', '/datasets', { name: 'nowhere', path: '/no/such/folder' }, 400, 'ValidationError', /does not exist/],
      ['POST', '/datasets', { name: 'toy', path: join(test.home, 'images') }, 409, 'AlreadyExists', /toy/],
      ['GET', '/datasets/missing', undefined, 404, 'NotFound', /missing/],
      ['GET', '/training-jobs/missing/metrics', undefined, 404, 'NotFound', /not found/],
      ['GET', '/training-jobs/missing/logs', undefined, 404, 'NotFound', /not found/],
      ['GET', '/training-jobs/missing/trace', undefined, 404, 'NotFound', /not found/],
      ['GET', '/training-jobs/missing/logs?from=-1', undefined, 400, 'ValidationError', /from/],
      ['GET', '/training-jobs/missing/logs?from=1&nonsense=2', undefined, 400, 'ValidationError', /nonsense/],
      ['GET', '/tuning-jobs/missing/trials', undefined, 404, 'NotFound', /tuning job/],
      ['POST', '/training-jobs', { name: 'j' }, 404, 'NotFound', /No operation at POST \/kennel\/training-jobs/],
      ['POST', '/datasets', 'x'.repeat(1024 * 1024 + 1), 413, 'PayloadTooLarge', /exceeds/],
    ];
    for (const [method, path, body, status, code, message] of cases) {
      const response = await call(method, path, body);
      assert.equal(response.status, status, `${method} ${path}`);
      const answer = await error(response);
      assert.equal(answer.code, code, `${method} ${path}: ${answer.message}`);
      assert.match(answer.message, message, `${method} ${path}`);
    }
  });

  it('puts, lists, gets and deletes objects of the store behind s3:// URIs, keys with any character', async () => {
    const object = (bucket: string, key: string) => `/objects/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const put = (key: string, body: string) =>
      signedFetch(`${test.url}/kennel${object('data', key)}`, { method: 'PUT', body, headers: { 'content-type': 'text/plain' }, service: 'kennel', credentials: test.credentials });
    for (const key of ['set/a.txt', 'set/b c.txt', 'set/ü%?#.txt', 'other/x.txt']) assert.equal((await put(key, `content of ${key}`)).status, 200, key);

    const listed = (await (await call('GET', '/objects/data?prefix=set%2F')).json()) as { objects: { key: string; sizeBytes: number }[] };
    assert.deepEqual(listed.objects.map((o) => o.key), ['set/a.txt', 'set/b c.txt', 'set/ü%?#.txt']);
    const got = await call('GET', object('data', 'set/ü%?#.txt'));
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'text/plain');
    assert.equal(await got.text(), 'content of set/ü%?#.txt');
    assert.equal((await call('DELETE', object('data', 'set/a.txt'))).status, 204);

    const cases: [string, string, number, string, RegExp][] = [
      ['GET', object('data', 'set/a.txt'), 404, 'NotFound', /s3:\/\/data\/set\/a\.txt does not exist/],
      ['DELETE', object('data', 'set/a.txt'), 404, 'NotFound', /does not exist/],
      ['GET', '/objects/Bad_Bucket', 400, 'ValidationError', /Bad_Bucket/],
      ['GET', object('Bad_Bucket', 'x'), 400, 'ValidationError', /Bad_Bucket/],
    ];
    for (const [method, path, status, code, message] of cases) {
      const response = await call(method, path);
      assert.equal(response.status, status, `${method} ${path}`);
      const answer = await error(response);
      assert.equal(answer.code, code);
      assert.match(answer.message, message);
    }
  });

  it('refuses unsigned calls and never shows internals', async () => {
    const unsigned = await fetch(`${test.url}/kennel/datasets`);
    assert.equal(unsigned.status, 403);
    assert.equal((await error(unsigned)).code, 'MissingAuthenticationToken');
    const wrongService = await signedFetch(`${test.url}/kennel/datasets`, { method: 'GET', service: 'sagemaker', credentials: test.credentials });
    assert.equal(wrongService.status, 403);
    const text = await wrongService.text();
    assert.doesNotMatch(text, /at .*\.ts:\d+/);
  });

  it('answers unknown routes with 404 in the caller\'s format, and the health check without credentials', async () => {
    const unknown = await fetch(`${test.url}/no/such/route`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    const unknownKennel = await call('GET', '/no-such-collection');
    assert.equal(unknownKennel.status, 404);
    assert.equal((await error(unknownKennel)).code, 'NotFound');
    assert.equal((await fetch(`${test.url}/ping`)).status, 200);
  });

  it('answers a request Node cannot parse with a JSON 400 instead of dropping it', async () => {
    const { port, hostname } = new URL(test.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write('POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.match(raw, /x-amzn-ErrorType: ValidationError/);
  });
});
