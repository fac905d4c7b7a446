import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MAX_RESPONSE_BYTES, RuntimeApi, type InitError, type RuntimeAnswer } from './runtime-api.ts';
import type { Invocation } from './types.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Talks to the Runtime API as the Node.js runtime interface client does: one kept-alive connection. */
class RuntimeClient {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  constructor(private readonly address: string) {}

  call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
    const [host, port] = this.address.split(':');
    return new Promise((resolve, reject) => {
      const req = request({ host, port: Number(port), method, path, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  next(): Promise<Reply> {
    return this.call('GET', '/2018-06-01/runtime/invocation/next');
  }

  post(requestId: string, kind: 'response' | 'error', body: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
    return this.call('POST', `/2018-06-01/runtime/invocation/${encodeURIComponent(requestId)}/${kind}`, body, headers);
  }
}

function invocation(requestId: string, overrides: Partial<Invocation> = {}): Invocation {
  return { requestId, payload: Buffer.from('{"n":1}'), invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f', ...overrides };
}

/** Sends bytes on a raw connection and returns whatever comes back before the server closes it. */
function raw(address: string, bytes: string): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host, () => socket.write(bytes));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('RuntimeApi', () => {
  let api: RuntimeApi;
  let client: RuntimeClient;
  let events: string[];
  let answers: Array<[string, RuntimeAnswer]>;
  let initErrors: InitError[];
  let ready: Promise<void>;

  beforeEach(async () => {
    events = [];
    answers = [];
    initErrors = [];
    let onReady!: () => void;
    ready = new Promise((resolve) => (onReady = resolve));
    api = await RuntimeApi.listen({
      onReady: () => {
        events.push('ready');
        onReady();
      },
      onDelivered: (id) => events.push(`delivered ${id}`),
      onAnswer: (id, answer) => answers.push([id, answer]),
      onInitError: (error) => initErrors.push(error),
    });
    client = new RuntimeClient(api.address);
  });

  afterEach(async () => {
    client.agent.destroy();
    await api.close();
  });

  it('listens on 127.0.0.1 and a port of its own', () => {
    assert.match(api.address, /^127\.0\.0\.1:\d+$/);
  });

  it('holds /next until an invocation comes, then hands it over with Lambda’s headers', async () => {
    const next = client.next();
    await ready;
    assert.deepEqual(events, ['ready']);
    const clientContext = Buffer.from(JSON.stringify({ custom: { city: 'Zürich' } })).toString('base64');
    api.deliver(invocation('req-1', { clientContext, cognitoIdentity: '{"cognitoIdentityId":"id-1"}', traceId: 'Root=1-abc' }), 1_700_000_003_000);
    const reply = await next;
    assert.equal(reply.status, 200);
    assert.equal(reply.body, '{"n":1}');
    assert.equal(reply.headers['lambda-runtime-aws-request-id'], 'req-1');
    assert.equal(reply.headers['lambda-runtime-deadline-ms'], '1700000003000');
    assert.equal(reply.headers['lambda-runtime-invoked-function-arn'], 'arn:aws:lambda:us-east-1:000000000000:function:f');
    assert.equal(reply.headers['lambda-runtime-trace-id'], 'Root=1-abc');
    assert.deepEqual(JSON.parse(reply.headers['lambda-runtime-client-context'] as string), { custom: { city: 'Zürich' } });
    assert.equal(reply.headers['lambda-runtime-cognito-identity'], '{"cognitoIdentityId":"id-1"}');
    assert.deepEqual(events, ['ready', 'delivered req-1']);
  });

  it('queues an invocation that comes before the runtime asks, and makes a trace id when none is given', async () => {
    api.deliver(invocation('req-1'), Date.now() + 3000);
    const reply = await client.next();
    assert.equal(reply.headers['lambda-runtime-aws-request-id'], 'req-1');
    assert.match(reply.headers['lambda-runtime-trace-id'] as string, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    assert.equal(reply.headers['lambda-runtime-client-context'], undefined);
    assert.equal(reply.headers['lambda-runtime-cognito-identity'], undefined);
  });

  it('takes a response (202) and an error with its type, then refuses further answers for them', async () => {
    api.deliver(invocation('req-1'), Date.now() + 3000);
    await client.next();
    assert.equal((await client.post('req-1', 'response', '"ok"')).status, 202);
    const again = await client.post('req-1', 'response', '"twice"');
    assert.equal(again.status, 403);
    assert.equal(JSON.parse(again.body).errorType, 'InvalidStateTransition');

    api.deliver(invocation('req-2'), Date.now() + 3000);
    await client.next();
    const error = JSON.stringify({ errorMessage: 'boom', errorType: 'TypeError', trace: ['TypeError: boom'] });
    assert.equal((await client.post('req-2', 'error', error, { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' })).status, 202);
    assert.deepEqual(
      answers.map(([id, answer]) => [id, answer.kind, answer.payload.toString(), answer.kind === 'error' ? answer.errorType : undefined]),
      [
        ['req-1', 'response', '"ok"', undefined],
        ['req-2', 'error', error, 'TypeError'],
      ],
    );
  });

  it('answers Expect: 100-continue, as curl-based runtime clients send for larger bodies', async () => {
    api.deliver(invocation('req-1'), Date.now() + 3000);
    await client.next();
    const [host, port] = api.address.split(':');
    const body = Buffer.alloc(64 * 1024, 'c');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host, port: Number(port), method: 'POST', path: '/2018-06-01/runtime/invocation/req-1/response', headers: { Expect: '100-continue', 'Content-Length': body.length } });
      req.on('continue', () => req.end(body));
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
    });
    assert.equal(status, 202);
    assert.equal(answers[0][1].payload.length, body.length);
  });

  it('refuses answers for a request id that is not in progress', async () => {
    const unknown = await client.post('someone-else', 'response', '{}');
    assert.equal(unknown.status, 400);
    assert.deepEqual(JSON.parse(unknown.body), { errorMessage: 'someone-else is not the invocation in progress', errorType: 'InvalidRequestID' });
    assert.deepEqual(answers, []);
  });

  it('takes an answer and the next /next pipelined on one connection, holding the /next until the next invocation', async () => {
    const [host, port] = api.address.split(':');
    const socket = connect(Number(port), host);
    let received = '';
    const responses = (count: number) =>
      new Promise<string[]>((resolve) => {
        const check = () => {
          const parts = received.split(/(?=HTTP\/1\.1 )/).filter((part) => /\r\n\r\n/.test(part));
          if (parts.length >= count) {
            socket.off('data', onData);
            resolve(parts);
          }
        };
        const onData = (chunk: Buffer) => {
          received += chunk.toString('utf8');
          check();
        };
        socket.on('data', onData);
        check();
      });
    socket.write('GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n');
    await ready;
    api.deliver(invocation('req-1'), Date.now() + 3000);
    assert.match((await responses(1))[0], /lambda-runtime-aws-request-id: req-1/i);
    received = '';
    socket.write(
      'POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n"ok"' +
        'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    assert.match((await responses(1))[0], /^HTTP\/1\.1 202/);
    assert.deepEqual(answers.map(([id]) => id), ['req-1']);
    api.deliver(invocation('req-2'), Date.now() + 3000);
    const [, event] = await responses(2);
    assert.match(event, /^HTTP\/1\.1 200[\s\S]*lambda-runtime-aws-request-id: req-2/i);
    socket.destroy();
  });

  it('fails an invocation whose error body is not JSON, saying so, and answers 400', async () => {
    api.deliver(invocation('req-1'), Date.now() + 3000);
    await client.next();
    const reply = await client.post('req-1', 'error', '{not json', { 'Lambda-Runtime-Function-Error-Type': 'Runtime.Custom' });
    assert.equal(reply.status, 400);
    assert.equal(JSON.parse(reply.body).errorType, 'InvalidErrorBody');
    const [[id, answer]] = answers;
    assert.equal(id, 'req-1');
    assert.equal(answer.kind, 'error');
    assert.deepEqual(JSON.parse(answer.payload.toString()), {
      errorMessage: 'The runtime reported an error whose body is not JSON: {not json',
      errorType: 'Runtime.Custom',
    });
  });

  it('fails a response over 6 MB with Function.ResponseSizeTooLarge, whether its length is declared or streamed', async () => {
    api.deliver(invocation('req-1'), Date.now() + 3000);
    await client.next();
    const declared = await client.post('req-1', 'response', Buffer.alloc(MAX_RESPONSE_BYTES + 1, 'a'));
    assert.equal(declared.status, 413);
    assert.equal(JSON.parse(declared.body).errorType, 'RequestEntityTooLarge');

    api.deliver(invocation('req-2'), Date.now() + 3000);
    await client.next();
    const streamed = await new Promise<number>((resolve, reject) => {
      const [host, port] = api.address.split(':');
      const req = request({ host, port: Number(port), method: 'POST', path: '/2018-06-01/runtime/invocation/req-2/response', agent: client.agent }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let sent = 0; sent <= MAX_RESPONSE_BYTES; sent += 1024 * 1024) req.write(Buffer.alloc(1024 * 1024, 'b'));
      req.end();
    });
    assert.equal(streamed, 413);
    for (const [, answer] of answers) {
      assert.equal(answer.kind === 'error' && answer.errorType, 'Function.ResponseSizeTooLarge');
      assert.deepEqual(JSON.parse(answer.payload.toString()), {
        errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
        errorType: 'Function.ResponseSizeTooLarge',
      });
    }
    assert.deepEqual(answers.map(([id]) => id), ['req-1', 'req-2']);
  });

  it('takes an init error before the first /next and refuses one after', async () => {
    const body = JSON.stringify({ errorType: 'Runtime.ImportModuleError', errorMessage: "Error: Cannot find module 'index'", trace: [] });
    const reply = await client.call('POST', '/2018-06-01/runtime/init/error', body, { 'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError' });
    assert.equal(reply.status, 202);
    assert.deepEqual(initErrors, [{ errorType: 'Runtime.ImportModuleError', errorMessage: "Error: Cannot find module 'index'", payload: Buffer.from(body) }]);
    api.deliver(invocation('req-1'), Date.now() + 3000);
    await client.next();
    assert.equal((await client.call('POST', '/2018-06-01/runtime/init/error', body)).status, 403);
  });

  it('answers unknown paths, wrong methods and raw junk with a 4xx and JSON, and keeps serving', async () => {
    const unknown = await client.call('GET', '/2018-06-01/runtime/secrets');
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.body).errorType, 'NotFound');
    assert.equal((await client.call('DELETE', '/2018-06-01/runtime/invocation/next')).status, 405);
    assert.equal((await client.call('GET', '/2018-06-01/runtime/invocation/x/response')).status, 405);
    assert.equal((await client.post('%E0%A4%A', 'response', '1')).status, 400);
    const junk = await raw(api.address, '\x00\x01garbage\r\n\r\n');
    assert.match(junk, /^HTTP\/1\.1 400 Bad Request/);
    assert.match(junk, /"errorType":"BadRequest"/);
    api.deliver(invocation('req-1'), Date.now() + 3000);
    assert.equal((await client.next()).status, 200);
  });

  it('keeps /next for the connection that first asked, until it closes', async () => {
    const owner = client.next();
    await ready;
    const thief = new RuntimeClient(api.address);
    const stolen = await thief.next();
    assert.equal(stolen.status, 403);
    assert.match(JSON.parse(stolen.body).errorMessage, /Another connection/);
    api.deliver(invocation('req-1'), Date.now() + 3000);
    assert.equal((await owner).headers['lambda-runtime-aws-request-id'], 'req-1');
    await client.post('req-1', 'response', '1');
    client.agent.destroy();
    api.deliver(invocation('req-2'), Date.now() + 3000);
    // The owner's close reaches the server a moment after the client drops it.
    let taken = await thief.next();
    while (taken.status === 403) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      taken = await thief.next();
    }
    thief.agent.destroy();
    assert.equal(taken.headers['lambda-runtime-aws-request-id'], 'req-2');
  });

  it('refuses what the runtime says about an abandoned invocation', async () => {
    api.deliver(invocation('req-1'), Date.now() + 3000);
    await client.next();
    api.abandon();
    assert.equal((await client.post('req-1', 'response', 'late')).status, 403);
    assert.deepEqual(answers, []);
  });
});
