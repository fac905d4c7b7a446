import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  RequestTooLargeException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { zipFiles } from '../../runtime/functions/function-package.ts';
import { closeKennelWithClients, createActiveFunction, createFunctionRole, startKennelWithClients, type AwsClientPool } from '../../testing/aws-clients.ts';
import { InvocationCollector } from '../../testing/invocation-collector.ts';
import type { TestKennel } from '../../testing/test-kennel.ts';

/** Handlers that report to the test's collector (COLLECTOR is injected as an environment variable). */
const HANDLERS = {
  'echo.mjs': `export const handler = async (event, context) => ({ event, requestId: context.awsRequestId, version: context.functionVersion, arn: context.invokedFunctionArn, clientContext: context.clientContext });`,
  'fail.mjs': `export const handler = async () => { throw new TypeError('no bones left'); };`,
  'slow.mjs': `export const handler = async () => { await new Promise((r) => setTimeout(r, 5000)); return 'late'; };`,
  'log.mjs': `export const handler = async () => { console.log('sniffing around'); return 'ok'; };`,
  'busy.mjs': `
    const post = (path, body) => fetch(process.env.COLLECTOR + path, { method: 'POST', body: JSON.stringify(body ?? {}) });
    export const handler = async (event, context) => {
      await post('/enter');
      await new Promise((r) => setTimeout(r, 300));
      await post('/leave');
      return { ok: true };
    };`,
  'record.mjs': `
    export const handler = async (event, context) => {
      await fetch(process.env.COLLECTOR + '/record', { method: 'POST', body: JSON.stringify({ requestId: context.awsRequestId, body: event }) });
      return 'recorded';
    };`,
  'exit.mjs': `export const handler = async () => { process.exit(3); };`,
  'hog.mjs': `export const handler = async () => { const keep = []; for (;;) keep.push(Buffer.alloc(8 * 1024 * 1024, 1)); };`,
  'snoop.mjs': `
    import { readFileSync } from 'node:fs';
    export const handler = async (event) => {
      try {
        return { read: readFileSync(event.path, 'utf8').slice(0, 40) };
      } catch (error) {
        return { refused: error.code };
      }
    };`,
  'whoami.mjs': `
    import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
    export const handler = async () => {
      const sts = new STSClient({});
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      return { arn: identity.Arn, endpoint: process.env.AWS_ENDPOINT_URL_STS, hasToken: Boolean(process.env.AWS_SESSION_TOKEN) };
    };`,
};

describe('Lambda Invoke through @aws-sdk/client-lambda', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let lambda: LambdaClient;
  let collector: InvocationCollector;
  let roleArn: string;
  let zip: Buffer;

  const create = async (name: string, handler: string, extra: Record<string, unknown> = {}) => {
    await createActiveFunction(lambda, {
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Handler: handler,
      Role: roleArn,
      Code: { ZipFile: zip },
      Environment: { Variables: { COLLECTOR: collector.url } },
      ...extra,
    });
  };
  const invoke = (input: { FunctionName: string; Payload?: string; Qualifier?: string; LogType?: 'Tail'; InvocationType?: 'Event' | 'DryRun'; ClientContext?: string }) =>
    lambda.send(new InvokeCommand({ ...input, ...(input.Payload !== undefined ? { Payload: new TextEncoder().encode(input.Payload) } : {}) }));
  const text = (payload: Uint8Array | undefined) => new TextDecoder().decode(payload);
  const logOf = (result: { LogResult?: string }) => Buffer.from(result.LogResult ?? '', 'base64').toString('utf8');

  before(async () => {
    collector = await InvocationCollector.start();
    ({ test, pool } = await startKennelWithClients());
    const clients = pool.for(test.credentials);
    lambda = clients.lambda;
    roleArn = await createFunctionRole(clients.iam, 'invoke-role');
    zip = await zipFiles(HANDLERS);
    await create('echo', 'echo.handler');
  });

  after(async () => {
    await closeKennelWithClients(test, pool);
    await collector.close();
  });

  it('answers RequestResponse with the result, the executed version, and a log tail that ends with the REPORT line', async () => {
    const cold = await invoke({ FunctionName: 'echo', Payload: '{"url":"http://example.com/rex.jpg"}', LogType: 'Tail' });
    assert.equal(cold.StatusCode, 200);
    assert.equal(cold.ExecutedVersion, '$LATEST');
    assert.equal(cold.FunctionError, undefined);
    const body = JSON.parse(text(cold.Payload));
    assert.deepEqual(body.event, { url: 'http://example.com/rex.jpg' });
    assert.equal(body.requestId, cold.$metadata.requestId);
    const log = logOf(cold);
    assert.match(log, /START RequestId: \S+ Version: \$LATEST/);
    assert.match(log, /REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms/);
    const warm = await invoke({ FunctionName: 'echo', LogType: 'Tail' });
    assert.deepEqual(JSON.parse(text(warm.Payload)).event, {});
    assert.doesNotMatch(logOf(warm), /Init Duration/);
  });

  it('hands the client context to the handler, and refuses one that is not base64 of a JSON object before anything runs', async () => {
    const context = { custom: { breed: 'beagle' } };
    const answered = await invoke({ FunctionName: 'echo', ClientContext: Buffer.from(JSON.stringify(context)).toString('base64') });
    assert.deepEqual(JSON.parse(text(answered.Payload)).clientContext, context);
    for (const bad of ['notbase64!!', Buffer.from('not json').toString('base64'), Buffer.from('[1,2]').toString('base64'), 'e30=='.slice(0, 1)]) {
      await assert.rejects(
        invoke({ FunctionName: 'echo', ClientContext: bad }),
        (error: unknown) => error instanceof InvalidRequestContentException && error.message === 'Client context must be a valid Base64-encoded JSON object.',
        bad,
      );
    }
    const unpadded = Buffer.from('{"a":1}').toString('base64').replace(/=+$/, '');
    assert.deepEqual(JSON.parse(text((await invoke({ FunctionName: 'echo', ClientContext: unpadded })).Payload)).clientContext, { a: 1 }, 'padding may be left out');
    await assert.rejects(invoke({ FunctionName: 'echo', ClientContext: Buffer.from(JSON.stringify({ pad: 'x'.repeat(3000) })).toString('base64') }), InvalidRequestContentException);
  });

  it('reports a handler error as FunctionError Unhandled with the error in the payload', async () => {
    await create('fail', 'fail.handler');
    const result = await invoke({ FunctionName: 'fail' });
    assert.equal(result.StatusCode, 200);
    assert.equal(result.FunctionError, 'Unhandled');
    const error = JSON.parse(text(result.Payload));
    assert.equal(error.errorType, 'TypeError');
    assert.equal(error.errorMessage, 'no bones left');
  });

  it('ends an invocation past its Timeout with "Task timed out after 1.00 seconds"', async () => {
    await create('slow', 'slow.handler', { Timeout: 1 });
    const result = await invoke({ FunctionName: 'slow', LogType: 'Tail' });
    assert.equal(result.FunctionError, 'Unhandled');
    assert.match(text(result.Payload), /Task timed out after 1\.00 seconds/);
    assert.match(logOf(result), /Task timed out after 1\.00 seconds/);
  });

  it('runs the version or alias named by Qualifier, and says which ran', async () => {
    await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '1' }));
    const byVersion = await invoke({ FunctionName: 'echo', Qualifier: '1' });
    assert.equal(byVersion.ExecutedVersion, '1');
    assert.equal(JSON.parse(text(byVersion.Payload)).version, '1');
    assert.equal((await invoke({ FunctionName: 'echo:live' })).ExecutedVersion, '1');
    await assert.rejects(invoke({ FunctionName: 'echo', Qualifier: '9' }), ResourceNotFoundException);
  });

  it('answers DryRun with 204 and runs nothing; Event with 202, and runs the event later with the same request id', async () => {
    await create('record', 'record.handler');
    assert.equal((await invoke({ FunctionName: 'record', InvocationType: 'DryRun' })).StatusCode, 204);
    const queued = await invoke({ FunctionName: 'record', InvocationType: 'Event', Payload: '{"dog":"rex"}' });
    assert.equal(queued.StatusCode, 202);
    const [call] = await collector.waitForCalls(1);
    assert.deepEqual(call!.body, { dog: 'rex' });
    assert.equal(call!.requestId, queued.$metadata.requestId);
  });

  it('refuses payloads over 6 MB (sync) and 1 MB (Event) with Lambda’s errors, and a function that does not exist', async () => {
    const big = `"${'x'.repeat(6 * 1024 * 1024)}"`;
    await assert.rejects(invoke({ FunctionName: 'echo', Payload: big }), RequestTooLargeException);
    const medium = `"${'x'.repeat(1024 * 1024 + 10)}"`;
    await assert.rejects(invoke({ FunctionName: 'echo', Payload: medium, InvocationType: 'Event' }), (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 413);
    await assert.rejects(invoke({ FunctionName: 'no-such-function' }), (error: unknown) => error instanceof ResourceNotFoundException && /Function not found/.test(error.message));
  });

  it('survives hostile handlers: one that exits, one that allocates past MemorySize, one that reads Kennel’s credentials', async () => {
    await create('exit', 'exit.handler');
    await create('hog', 'hog.handler', { MemorySize: 128 });
    await create('snoop', 'snoop.handler');
    const exited = await invoke({ FunctionName: 'exit' });
    assert.equal(exited.FunctionError, 'Unhandled');
    assert.match(text(exited.Payload), /Runtime\.ExitError/);
    assert.match(text(exited.Payload), /exit status 3/);
    const hogged = await invoke({ FunctionName: 'hog' });
    assert.equal(hogged.FunctionError, 'Unhandled');
    assert.match(text(hogged.Payload), /Runtime\.OutOfMemory|signal: killed/);
    for (const file of ['credentials', 'secrets.key', 'kennel.db']) {
      const snooped = await invoke({ FunctionName: 'snoop', Payload: JSON.stringify({ path: `${test.home}/${file}` }) });
      // Node's permission model refuses first (ERR_ACCESS_DENIED); under it, Landlock would answer EACCES.
      assert.ok(['ERR_ACCESS_DENIED', 'EACCES'].includes(JSON.parse(text(snooped.Payload)).refused), `${file}: ${text(snooped.Payload)}`);
    }
    // The environments that died were replaced, and the others never noticed.
    assert.match(text((await invoke({ FunctionName: 'exit' })).Payload), /Runtime\.ExitError/);
    assert.deepEqual(JSON.parse(text((await invoke({ FunctionName: 'echo', Payload: '{"still":"here"}' })).Payload)).event, { still: 'here' });
  });

  it('gives the handler its role’s temporary credentials and points the SDK at Kennel', async () => {
    await create('whoami', 'whoami.handler');
    const result = await invoke({ FunctionName: 'whoami' });
    assert.equal(result.FunctionError, undefined, text(result.Payload));
    const identity = JSON.parse(text(result.Payload));
    assert.equal(identity.arn, 'arn:aws:sts::000000000000:assumed-role/invoke-role/whoami');
    assert.equal(identity.endpoint, test.url);
    assert.equal(identity.hasToken, true);
  });

  it('with reserved concurrency 5, never runs more than 5 of 20 at once, throttles the rest, and the SDK’s retries get all 20 through', async () => {
    await create('busy', 'busy.handler');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'busy', ReservedConcurrentExecutions: 5 }));
    // Warm five environments first, so the burst measures the limit and not cold starts.
    await Promise.all(Array.from({ length: 5 }, () => invoke({ FunctionName: 'busy' })));
    collector.maxRunning = 0;

    const throttles: TooManyRequestsException[] = [];
    const once = await Promise.allSettled(Array.from({ length: 20 }, () => invoke({ FunctionName: 'busy' })));
    for (const outcome of once) if (outcome.status === 'rejected') throttles.push(outcome.reason as TooManyRequestsException);
    assert.ok(throttles.length >= 15 - 1, `expected about 15 throttles, got ${throttles.length}`);
    for (const throttle of throttles) {
      assert.ok(throttle instanceof TooManyRequestsException);
      assert.equal(throttle.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
      assert.equal(throttle.$metadata.httpStatusCode, 429);
      assert.ok(Number(throttle.retryAfterSeconds) >= 1);
    }
    assert.ok(collector.maxRunning <= 5, `at most 5 at once, saw ${collector.maxRunning}`);

    const retrying = new LambdaClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials, maxAttempts: 10 });
    try {
      collector.maxRunning = 0;
      const all = await Promise.all(Array.from({ length: 20 }, () => retrying.send(new InvokeCommand({ FunctionName: 'busy' }))));
      assert.equal(all.filter((result) => result.StatusCode === 200 && result.FunctionError === undefined).length, 20);
      assert.ok(collector.maxRunning <= 5, `at most 5 at once, saw ${collector.maxRunning}`);
    } finally {
      retrying.destroy();
    }
  });

  it('with provisioned concurrency 2, the first two simultaneous invocations after READY are warm', async () => {
    await create('warm', 'log.handler');
    await lambda.send(new PublishVersionCommand({ FunctionName: 'warm' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'warm', Name: 'prod', FunctionVersion: '1' }));
    await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'warm', Qualifier: 'prod', ProvisionedConcurrentExecutions: 2 }));
    for (let i = 0; i < 200; i++) {
      const { Status } = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'warm', Qualifier: 'prod' }));
      if (Status === 'READY') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const results = await Promise.all([0, 1].map(() => invoke({ FunctionName: 'warm', Qualifier: 'prod', LogType: 'Tail' })));
    for (const result of results) {
      assert.equal(text(result.Payload), '"ok"');
      assert.match(logOf(result), /sniffing around/);
      assert.match(logOf(result), /REPORT RequestId/);
      assert.doesNotMatch(logOf(result), /Init Duration/);
    }
  });

  it('reads the qualifier from FunctionName as from Qualifier: the invoked ARN names it, and an alias’s provisioned environments serve it', async () => {
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:';
    for (const input of [{ FunctionName: 'echo:live' }, { FunctionName: `${arn}echo:live` }, { FunctionName: 'echo', Qualifier: 'live' }]) {
      const body = JSON.parse(text((await invoke(input)).Payload));
      assert.deepEqual([body.version, body.arn], ['1', `${arn}echo:live`], JSON.stringify(input));
    }
    await create('warm-named', 'log.handler');
    await lambda.send(new PublishVersionCommand({ FunctionName: 'warm-named' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'warm-named', Name: 'prod', FunctionVersion: '1' }));
    await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'warm-named', Qualifier: 'prod', ProvisionedConcurrentExecutions: 1 }));
    for (let i = 0; i < 200; i++) {
      const { Status } = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'warm-named', Qualifier: 'prod' }));
      if (Status === 'READY') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const result = await invoke({ FunctionName: 'warm-named:prod', LogType: 'Tail' });
    assert.match(logOf(result), /REPORT RequestId/);
    assert.doesNotMatch(logOf(result), /Init Duration/, 'served by the provisioned environment');
  });
});
