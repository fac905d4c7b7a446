import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  DeleteFunctionCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  ResourceNotFoundException,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { DeleteRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { zipFiles } from '../../runtime/functions/function-package.ts';
import { closeKennelWithClients, createActiveFunction, createFunctionRole, startKennelWithClients, type AwsClientPool } from '../../testing/aws-clients.ts';
import { InvocationCollector, type CollectedCall } from '../../testing/invocation-collector.ts';
import { runKennelCli } from '../../testing/kennel-cli.ts';
import { signedFetch } from '../../testing/signed-fetch.ts';
import type { TestKennel } from '../../testing/test-kennel.ts';

/**
 * Event invocations end to end with a fast retry timing (100 ms and 200 ms
 * between function-error retries instead of Lambda's one and two minutes):
 * retries as MaximumRetryAttempts says, Lambda's invocation record at the
 * on-failure destination, the dead-letter list and its redrive, reserved
 * concurrency 0, and MaximumEventAgeInSeconds on a clock the test moves on.
 */
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';

/** Every run reports `{ fn, event }` (or the destination's record) to the collector under the invocation's request id. */
const HANDLERS = {
  'report.mjs': `
    export const report = (context, body) =>
      fetch(process.env.COLLECTOR + '/record', { method: 'POST', body: JSON.stringify({ requestId: context.awsRequestId, body: { fn: context.functionName, version: context.functionVersion, arn: context.invokedFunctionArn, ...body } }) });`,
  'fail.mjs': `
    import { report } from './report.mjs';
    export const handler = async (event, context) => { await report(context, { event }); throw new RangeError('no treat for ' + event.dog); };`,
  'ok.mjs': `
    import { report } from './report.mjs';
    export const handler = async (event, context) => { await report(context, { event }); return { fed: event.dog }; };`,
  'destination.mjs': `
    import { report } from './report.mjs';
    export const handler = async (event, context) => { await report(context, { record: event }); return 'noted'; };`,
  'hold.mjs': `
    import { report } from './report.mjs';
    export const handler = async (event, context) => {
      await report(context, { event });
      while (!(await (await fetch(process.env.COLLECTOR + '/seen/release')).json()).seen) await new Promise((r) => setTimeout(r, 50));
      return 'released';
    };`,
};

interface DeadLetter {
  requestId: string;
  qualifier: string;
  attempts: number;
  condition?: string;
  lastError?: { errorType: string; errorMessage: string };
  deliveryError?: string;
  payload: string;
}

describe('asynchronous invocation: retries, destinations and dead letters', { timeout: 180_000 }, () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let lambda: LambdaClient;
  let collector: InvocationCollector;
  let roleArn: string;
  let iam: IAMClient;
  let zip: Buffer;
  /** Added to the server's clock: how the event-age test makes an event old without waiting a minute. */
  let clockOffsetMs = 0;

  const create = async (name: string, handler: string, role = roleArn) => {
    await createActiveFunction(lambda, { FunctionName: name, Runtime: 'nodejs20.x', Handler: handler, Role: role, Code: { ZipFile: zip }, Timeout: 30, Environment: { Variables: { COLLECTOR: collector.url } } });
  };
  /** An Event invocation; resolves to the request id of the 202. */
  const queue = async (name: string, event: unknown): Promise<string> => {
    const answer = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    assert.equal(answer.StatusCode, 202);
    return answer.$metadata.requestId!;
  };
  const runsOf = (name: string, requestId?: string) =>
    collector.calls.filter((call) => (call.body as { fn: string }).fn === name && (requestId === undefined || call.requestId === requestId) && 'event' in (call.body as object));
  const recordsAt = (destination: string) => collector.calls.filter((call) => (call.body as { fn: string }).fn === destination && 'record' in (call.body as object)).map((call) => (call.body as { record: any }).record);
  const deadLetters = async (name: string): Promise<DeadLetter[]> => {
    const response = await signedFetch(`${test.url}/kennel/functions/${name}/dead-letters`, { method: 'GET', service: 'kennel', credentials: test.credentials });
    assert.equal(response.status, 200);
    return ((await response.json()) as { events: DeadLetter[] }).events;
  };
  /** Polls `probe` until it returns something other than undefined. */
  const eventually = async <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms; collected: ${JSON.stringify(collector.calls)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  before(async () => {
    collector = await InvocationCollector.start();
    ({ test, pool } = await startKennelWithClients({
      clock: { now: () => Date.now() + clockOffsetMs },
      functions: { asyncTiming: { functionErrorDelaysMs: [100, 200], throttleBaseMs: 50, throttleCapMs: 200 } },
    }));
    const clients = pool.for(test.credentials);
    lambda = clients.lambda;
    iam = clients.iam;
    // Lambda sends a destination its records as the function's role: the role must be allowed to invoke it.
    roleArn = await createFunctionRole(iam, 'async-role', { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `${ARN}*` });
    zip = await zipFiles(HANDLERS);
    await create('failures', 'destination.handler');
  });

  after(async () => {
    await closeKennelWithClients(test, pool);
    await collector?.close();
  });

  it('runs a failing handler 1 + MaximumRetryAttempts times, then sends Lambda’s invocation record to the on-failure destination', async () => {
    const requestIds = new Map<number, string>();
    for (const retries of [0, 1, 2]) {
      const name = `fail-${retries}`;
      await create(name, 'fail.handler');
      await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: name, MaximumRetryAttempts: retries, DestinationConfig: { OnFailure: { Destination: `${ARN}failures` } } }));
      requestIds.set(retries, await queue(name, { dog: `rex-${retries}` }));
    }
    await eventually('three invocation records', () => (recordsAt('failures').length >= 3 ? true : undefined));
    const records = recordsAt('failures');
    assert.equal(records.length, 3, 'one record per event');
    for (const [retries, requestId] of requestIds) {
      const name = `fail-${retries}`;
      // The record is sent after the last run, so every run has reported by now.
      assert.equal(runsOf(name).length, 1 + retries, `${name} ran once and retried ${retries} times`);
      assert.ok(runsOf(name).every((run) => run.requestId === requestId), 'every retry keeps the request id of the 202');
      assert.ok(runsOf(name).every((run) => JSON.stringify((run.body as { event: unknown }).event) === JSON.stringify({ dog: `rex-${retries}` })));
      const record = records.find((candidate) => candidate.requestContext.requestId === requestId);
      assert.ok(record, `a record for ${name}`);
      assert.equal(record.version, '1.0');
      assert.ok(!Number.isNaN(Date.parse(record.timestamp)));
      assert.deepEqual(record.requestContext, { requestId, functionArn: `${ARN}${name}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 1 + retries });
      assert.deepEqual(record.requestPayload, { dog: `rex-${retries}` });
      assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
      assert.equal(record.responsePayload.errorType, 'RangeError');
      assert.equal(record.responsePayload.errorMessage, `no treat for rex-${retries}`);
      assert.deepEqual(await deadLetters(name), [], 'an event sent to its destination is not also a dead letter');
    }
  });

  it('keeps an event that failed every attempt and has no destination as a dead letter, listed by the API and the CLI, and redrives it once the handler is fixed', async () => {
    await create('flaky', 'fail.handler');
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'flaky', MaximumRetryAttempts: 1 }));
    const requestId = await queue('flaky', { dog: 'fido' });
    const [letter] = await eventually('the dead letter', async () => {
      const letters = await deadLetters('flaky');
      return letters.length > 0 ? letters : undefined;
    });
    assert.equal(letter!.requestId, requestId);
    assert.equal(letter!.qualifier, '$LATEST');
    assert.equal(letter!.attempts, 2);
    assert.equal(letter!.condition, 'RetriesExhausted');
    assert.deepEqual(letter!.lastError, { errorType: 'RangeError', errorMessage: 'no treat for fido' });
    assert.deepEqual(JSON.parse(letter!.payload), { dog: 'fido' });
    assert.equal(runsOf('flaky', requestId).length, 2);

    const listed = await runKennelCli(test, ['--output', 'json', 'functions', 'dead-letters', 'flaky']);
    assert.equal(listed.code, 0, listed.stderr);
    const fromCli = JSON.parse(listed.stdout) as DeadLetter[];
    assert.deepEqual(fromCli.map((e) => [e.requestId, e.attempts, e.condition]), [[requestId, 2, 'RetriesExhausted']]);
    const asText = await runKennelCli(test, ['functions', 'dead-letters', 'flaky']);
    assert.match(asText.stdout, new RegExp(`${requestId}\\s+\\$LATEST\\s+2\\s+RetriesExhausted\\s+\\S+\\s+RangeError: no treat for fido`));

    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'flaky', Handler: 'ok.handler' }));
    await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: 'flaky' });
    const redriven = await runKennelCli(test, ['--output', 'json', 'functions', 'redrive', 'flaky']);
    assert.equal(redriven.code, 0, redriven.stderr);
    assert.deepEqual(JSON.parse(redriven.stdout), { redriven: [requestId] });
    await eventually('the redriven event run by the fixed handler', () => (runsOf('flaky', requestId).length === 3 ? true : undefined));
    await eventually('the delivered event leaving the queue', () => (test.kennel.platform.deps.store.asyncEvents.get(requestId) === undefined ? true : undefined));
    assert.deepEqual(await deadLetters('flaky'), []);
    const again = await runKennelCli(test, ['functions', 'redrive', 'flaky']);
    assert.equal(again.stdout.trim(), 'redriven: 0');
  });

  it('keeps a failed event as a dead letter when its on-failure destination no longer exists', async () => {
    await create('gone', 'destination.handler');
    await create('orphaned', 'fail.handler');
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'orphaned', MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: `${ARN}gone` } } }));
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'gone' }));
    const requestId = await queue('orphaned', { dog: 'stray' });
    const [letter] = await eventually('the dead letter', async () => {
      const letters = await deadLetters('orphaned');
      return letters.length > 0 ? letters : undefined;
    });
    assert.deepEqual([letter!.requestId, letter!.attempts, letter!.condition], [requestId, 1, 'RetriesExhausted']);
    assert.match(letter!.deliveryError ?? '', /Function not found: .*:function:gone/);
  });

  it('keeps a failed event as a dead letter, and sends nothing, when the execution role may no longer invoke the destination', async () => {
    const revocable = await createFunctionRole(iam, 'revocable-role', { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `${ARN}failures` });
    await create('revoked', 'fail.handler', revocable);
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'revoked', MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: `${ARN}failures` } } }));
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'revocable-role', PolicyName: 'inline' }));
    const requestId = await queue('revoked', { dog: 'rex' });
    const [letter] = await eventually('the dead letter', async () => {
      const letters = await deadLetters('revoked');
      return letters.length > 0 ? letters : undefined;
    });
    assert.equal(letter!.requestId, requestId);
    assert.equal(letter!.deliveryError, `The execution role ${revocable} is not allowed lambda:InvokeFunction on ${ARN}failures`);
    assert.equal(runsOf('revoked', requestId).length, 1);
    assert.equal(recordsAt('failures').filter((record) => record.requestContext.requestId === requestId).length, 0, 'no record reached the destination');
    const asText = await runKennelCli(test, ['functions', 'dead-letters', 'revoked']);
    assert.match(asText.stdout, /RangeError: no treat for rex\s+The execution role .* is not allowed lambda:InvokeFunction/);
  });

  it('sends the events of a function with reserved concurrency 0 straight to failure, without running it', async () => {
    await create('closed', 'ok.handler');
    await create('closed-dlq', 'ok.handler');
    for (const name of ['closed', 'closed-dlq']) await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 0 }));
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'closed', DestinationConfig: { OnFailure: { Destination: `${ARN}failures` } } }));
    const toDestination = await queue('closed', { dog: 'shut-out' });
    const toDeadLetters = await queue('closed-dlq', { dog: 'locked-out' });

    const record = await eventually('the record of the throttled event', () => recordsAt('failures').find((candidate) => candidate.requestContext.requestId === toDestination));
    assert.equal(record.requestContext.condition, 'RetriesExhausted');
    assert.equal(record.requestContext.approximateInvokeCount, 0);
    assert.deepEqual(record.requestPayload, { dog: 'shut-out' });
    assert.equal(record.responseContext, undefined, 'the function never ran, so there is no response');
    const [letter] = await eventually('the dead letter', async () => {
      const letters = await deadLetters('closed-dlq');
      return letters.length > 0 ? letters : undefined;
    });
    assert.deepEqual([letter!.requestId, letter!.attempts, letter!.condition], [toDeadLetters, 0, 'RetriesExhausted']);
    assert.deepEqual([...runsOf('closed'), ...runsOf('closed-dlq')], []);
  });

  it('runs an event on what its qualifier names, in FunctionName or in Qualifier, with that qualifier’s retry settings', async () => {
    await create('aliased', 'fail.handler');
    await lambda.send(new PublishVersionCommand({ FunctionName: 'aliased' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'aliased', Name: 'live', FunctionVersion: '1' }));
    const put = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'aliased:live', MaximumRetryAttempts: 0 }));
    assert.equal(put.FunctionArn, `${ARN}aliased:live`);
    const got = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'aliased', Qualifier: 'live' }));
    assert.deepEqual([got.FunctionArn, got.MaximumRetryAttempts], [`${ARN}aliased:live`, 0]);
    await assert.rejects(lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'aliased' })), ResourceNotFoundException, '$LATEST has none');
    const inName = await queue('aliased:live', { dog: 'in-name' });
    const asArn = await queue(`${ARN}aliased:live`, { dog: 'as-arn' });
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'aliased', Qualifier: 'live', InvocationType: 'Event', Payload: new TextEncoder().encode('{"dog":"as-qualifier"}') }));
    const asQualifier = answer.$metadata.requestId!;
    for (const requestId of [inName, asArn, asQualifier]) {
      const [letter] = await eventually(`the dead letter of ${requestId}`, async () => {
        const letters = (await deadLetters('aliased')).filter((candidate) => candidate.requestId === requestId);
        return letters.length > 0 ? letters : undefined;
      });
      assert.deepEqual([letter!.qualifier, letter!.attempts], ['live', 1], 'the alias’s MaximumRetryAttempts 0 applied');
      const [run] = runsOf('aliased', requestId);
      assert.deepEqual([(run!.body as { version: string }).version, (run!.body as { arn: string }).arn], ['1', `${ARN}aliased:live`]);
    }
  });

  it('does not run an event older than MaximumEventAgeInSeconds: it waited throttled behind a busy function and fails with EventAgeExceeded', async () => {
    await create('held', 'hold.handler');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'held', ReservedConcurrentExecutions: 1 }));
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'held', MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 }));
    // A synchronous invocation takes the one slot and keeps it until the test releases it.
    const busy = lambda.send(new InvokeCommand({ FunctionName: 'held', Payload: new TextEncoder().encode('{"dog":"first"}') }));
    await eventually('the first invocation running', () => (runsOf('held').length === 1 ? true : undefined));
    const requestId = await queue('held', { dog: 'late' });
    await eventually('the event throttled at least once', () => ((test.kennel.platform.deps.store.asyncEvents.get(requestId)?.deferrals ?? 0) >= 1 ? true : undefined));
    clockOffsetMs = 61_000;

    const [letter] = await eventually('the aged-out event', async () => {
      const letters = await deadLetters('held');
      return letters.length > 0 ? letters : undefined;
    });
    assert.deepEqual([letter!.requestId, letter!.attempts, letter!.condition], [requestId, 0, 'EventAgeExceeded']);
    collector.calls.push({ requestId: 'release', body: {} } satisfies CollectedCall);
    const first = await busy;
    assert.equal(new TextDecoder().decode(first.Payload), '"released"');
    assert.deepEqual(runsOf('held', requestId), [], 'the aged-out event never ran');

    // Redriven, it is a new delivery: no attempts, a fresh age, and the throttle backoff from its first step.
    assert.deepEqual(test.kennel.platform.asyncInvocations.redrive('held'), [requestId]);
    const requeued = test.kennel.platform.deps.store.asyncEvents.get(requestId)!;
    assert.deepEqual([requeued.status, requeued.attempts, requeued.deferrals ?? 0], ['queued', 0, 0]);
    await eventually('the redriven event running', () => (runsOf('held', requestId).length === 1 ? true : undefined));
  });
});
