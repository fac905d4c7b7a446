import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionEventInvokeConfigCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  LambdaClient,
  LambdaServiceException,
  ListFunctionsCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListTagsCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  TooManyRequestsException,
  UntagResourceCommand,
} from '@aws-sdk/client-lambda';
import { Hono } from 'hono';
import { systemClock } from '../../core/clock.ts';
import { DomainError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import type { SecretLookup } from '../../domain/iam/sigv4.ts';
import type { ApiEnv } from '../env.ts';
import { requestId } from '../middleware/request-id/index.ts';
import { listen, type RunningServer } from '../server.ts';
import { lambdaWire } from '../wire/lambda-errors.ts';
import { restJsonRoutes, type RestJsonOperation } from './rest-json-protocol.ts';
import { loadServiceModel } from './service-model.ts';

/**
 * The codec against the real @aws-sdk/client-lambda over HTTP, signatures
 * checked: what the SDK's serializers send decodes to what was passed, and
 * what Kennel answers the SDK's deserializers read back as the documented
 * objects and exception classes. Handlers record their input and answer fixed
 * outputs.
 */
const KEY = { accessKeyId: 'AKIDLAMBDASDK', secretAccessKey: 'lambda/sdk+secret' };
const lookupSecret: SecretLookup = (id) => (id === KEY.accessKeyId ? { secretAccessKey: KEY.secretAccessKey, principal: 'arn:aws:iam::000000000000:user/sdk' } : undefined);
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:dog-breeds';
const ROLE = 'arn:aws:iam::000000000000:role/dog-breeds';
const LAST_MODIFIED = '2026-12-01T18:25:17.359+0000';
const configuration = (FunctionName: string) => ({ FunctionName, FunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${FunctionName}`, Runtime: 'nodejs22.x', Role: ROLE, Handler: 'index.handler', CodeSize: 312, Timeout: 30, MemorySize: 512, LastModified: LAST_MODIFIED, Version: '$LATEST', State: 'Active' });

/** The inputs each operation received, in order. */
const received = new Map<string, Record<string, unknown>[]>();
const last = (operation: string) => received.get(operation)?.at(-1);

const answers: Record<string, (input: Record<string, unknown>) => unknown> = {
  CreateFunction: (input) => configuration(input.FunctionName as string),
  GetFunction: (input) => {
    if (input.FunctionName === 'nobody') throw new DomainError('NotFound', `Function not found: ${ARN.replace('dog-breeds', 'nobody')}`);
    return { Configuration: configuration('dog-breeds'), Code: { RepositoryType: 'S3', Location: 'http://127.0.0.1/code.zip' }, Tags: { team: 'ml' }, Concurrency: { ReservedConcurrentExecutions: 5 } };
  },
  ListFunctions: () => ({ Functions: [configuration('a'), configuration('b')], NextMarker: 'next page' }),
  DeleteFunction: () => undefined,
  Invoke: (input) => {
    if (input.FunctionName === 'throttled') {
      throw new DomainError('LimitExceeded', 'Rate Exceeded.', { reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', retryAfterSeconds: 3 });
    }
    if (input.InvocationType === 'Event') return { StatusCode: 202 };
    if (input.InvocationType === 'DryRun') return { StatusCode: 204 };
    return {
      StatusCode: 200,
      FunctionError: 'Unhandled',
      LogResult: Buffer.from('START RequestId: 42\nEND RequestId: 42\n').toString('base64'),
      ExecutedVersion: '7',
      Payload: Buffer.from('{"errorType":"Error","errorMessage":"no dog in image"}'),
    };
  },
  GetProvisionedConcurrencyConfig: () => ({ RequestedProvisionedConcurrentExecutions: 2, AvailableProvisionedConcurrentExecutions: 2, AllocatedProvisionedConcurrentExecutions: 2, Status: 'READY', LastModified: LAST_MODIFIED }),
  ListProvisionedConcurrencyConfigs: () => ({
    ProvisionedConcurrencyConfigs: [{ FunctionArn: `${ARN}:live`, RequestedProvisionedConcurrentExecutions: 2, Status: 'IN_PROGRESS', LastModified: LAST_MODIFIED }],
  }),
  GetFunctionEventInvokeConfig: () => ({ FunctionArn: `${ARN}:$LATEST`, MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 3600, LastModified: new Date('2026-12-01T18:25:17Z') }),
  TagResource: () => undefined,
  UntagResource: () => undefined,
  ListTags: () => ({ Tags: { team: 'ml', 'cost centre': '42' } }),
};

const operations: Record<string, RestJsonOperation> = Object.fromEntries(
  Object.entries(answers).map(([name, answer]) => [
    name,
    {
      handler: (input: Record<string, unknown>) => {
        received.set(name, [...(received.get(name) ?? []), input]);
        return answer(input);
      },
    } as RestJsonOperation,
  ]),
);

describe('the REST-JSON protocol with the real @aws-sdk/client-lambda', () => {
  let server: RunningServer;
  let lambda: LambdaClient;

  before(async () => {
    const app = new Hono<ApiEnv>();
    app.use(requestId());
    app.route('/', restJsonRoutes({ lookupSecret, clock: systemClock, logger: silentLogger }, { signingName: 'lambda', model: loadServiceModel('lambda'), operations, ...lambdaWire }, () => {}));
    server = await listen(app, { host: '127.0.0.1', port: 0 });
    lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
  });
  after(async () => {
    lambda?.destroy();
    await server?.close();
  });

  it('GetFunction with a qualified ARN as the name: the label arrives decoded, the answer parses', async () => {
    const result = await lambda.send(new GetFunctionCommand({ FunctionName: `${ARN}:live`, Qualifier: 'live' }));
    assert.deepEqual(last('GetFunction'), { FunctionName: `${ARN}:live`, Qualifier: 'live' });
    assert.deepEqual(result.Configuration, configuration('dog-breeds'));
    assert.deepEqual(result.Concurrency, { ReservedConcurrentExecutions: 5 });
    assert.deepEqual(result.Tags, { team: 'ml' });
    assert.equal(result.$metadata.httpStatusCode, 200);
    assert.match(result.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
  });

  it('CreateFunction: the zip as bytes, a runtime newer than Debian\'s botocore, 201', async () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 1, 2, 250]);
    const result = await lambda.send(
      new CreateFunctionCommand({ FunctionName: 'dog-breeds', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: zip }, Environment: { Variables: { ENDPOINT: 'dogs' } }, Publish: true }),
    );
    const input = last('CreateFunction')!;
    assert.deepEqual([...(input.Code as { ZipFile: Buffer }).ZipFile], [...zip]);
    assert.deepEqual(input.Environment, { Variables: { ENDPOINT: 'dogs' } });
    assert.equal(input.Publish, true);
    assert.equal(result.$metadata.httpStatusCode, 201);
    assert.equal(result.LastModified, LAST_MODIFIED);
  });

  it('Invoke: payload, log type, client context and qualifier in; status, FunctionError, LogResult, ExecutedVersion and payload out', async () => {
    const payload = new TextEncoder().encode('{"url":"https://images.example/dog.jpg"}');
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'dog-breeds', Qualifier: 'live', LogType: 'Tail', ClientContext: 'eyJjdXN0b20iOnsiYSI6MX19', Payload: payload }));
    const input = last('Invoke')!;
    assert.deepEqual({ ...input, Payload: undefined }, { FunctionName: 'dog-breeds', Qualifier: 'live', LogType: 'Tail', ClientContext: 'eyJjdXN0b20iOnsiYSI6MX19', Payload: undefined });
    assert.deepEqual([...(input.Payload as Buffer)], [...payload]);
    assert.equal(result.StatusCode, 200);
    assert.equal(result.FunctionError, 'Unhandled');
    assert.equal(Buffer.from(result.LogResult!, 'base64').toString(), 'START RequestId: 42\nEND RequestId: 42\n');
    assert.equal(result.ExecutedVersion, '7');
    assert.equal(new TextDecoder().decode(result.Payload), '{"errorType":"Error","errorMessage":"no dog in image"}');
  });

  it('Invoke: Event answers 202 and DryRun 204, without payloads', async () => {
    const event = await lambda.send(new InvokeCommand({ FunctionName: 'dog-breeds', InvocationType: 'Event', Payload: new TextEncoder().encode('{}') }));
    assert.equal(event.StatusCode, 202);
    assert.equal(last('Invoke')!.InvocationType, 'Event');
    const dryRun = await lambda.send(new InvokeCommand({ FunctionName: 'dog-breeds', InvocationType: 'DryRun' }));
    assert.equal(dryRun.StatusCode, 204);
    assert.deepEqual(last('Invoke'), { FunctionName: 'dog-breeds', InvocationType: 'DryRun' });
  });

  it('ListProvisionedConcurrencyConfigs and GetProvisionedConcurrencyConfig share a path and reach their own handlers', async () => {
    const listed = await lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'dog-breeds', MaxItems: 10 }));
    assert.deepEqual(last('ListProvisionedConcurrencyConfigs'), { FunctionName: 'dog-breeds', MaxItems: 10 });
    assert.deepEqual(listed.ProvisionedConcurrencyConfigs, [{ FunctionArn: `${ARN}:live`, RequestedProvisionedConcurrentExecutions: 2, Status: 'IN_PROGRESS', LastModified: LAST_MODIFIED }]);
    const config = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'dog-breeds', Qualifier: 'live' }));
    assert.deepEqual(last('GetProvisionedConcurrencyConfig'), { FunctionName: 'dog-breeds', Qualifier: 'live' });
    assert.equal(config.Status, 'READY');
    assert.equal(received.get('ListProvisionedConcurrencyConfigs')?.length, 1);
  });

  it('TooManyRequestsException reaches the SDK as its class, with Reason and retryAfterSeconds', async () => {
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'throttled', Payload: new TextEncoder().encode('{}') })), (error: TooManyRequestsException) => {
      assert.ok(error instanceof TooManyRequestsException);
      assert.equal(error.name, 'TooManyRequestsException');
      assert.equal(error.message, 'Rate Exceeded.');
      assert.equal(error.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
      assert.equal(error.retryAfterSeconds, '3');
      assert.equal(error.Type, 'User');
      assert.equal(error.$fault, 'client');
      assert.equal(error.$metadata.httpStatusCode, 429);
      return true;
    });
  });

  it('ResourceNotFoundException reaches the SDK as its class, with its message', async () => {
    await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'nobody' })), (error: ResourceNotFoundException) => {
      assert.ok(error instanceof ResourceNotFoundException);
      assert.equal(error.message, `Function not found: ${ARN.replace('dog-breeds', 'nobody')}`);
      // The SDK folds a `Message` member into `message` and drops it.
      assert.equal(error.Type, 'User');
      assert.equal(error.$metadata.httpStatusCode, 404);
      return true;
    });
  });

  it('a model constraint the SDK does not check reaches it as ValidationException', async () => {
    await assert.rejects(lambda.send(new ListFunctionsCommand({ MaxItems: 0 })), (error: LambdaServiceException) => {
      assert.ok(error instanceof LambdaServiceException);
      assert.equal(error.name, 'ValidationException');
      assert.match(error.message, /^1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1/);
      assert.equal(error.$metadata.httpStatusCode, 400);
      return true;
    });
  });

  it('DeleteFunction answers 204 and the SDK takes it', async () => {
    const result = await lambda.send(new DeleteFunctionCommand({ FunctionName: ARN, Qualifier: '3' }));
    assert.equal(result.$metadata.httpStatusCode, 204);
    assert.deepEqual(last('DeleteFunction'), { FunctionName: ARN, Qualifier: '3' });
  });

  it('ListFunctions at its trailing-slash URI, with query parameters', async () => {
    const result = await lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: 'a b&c', FunctionVersion: 'ALL' }));
    assert.deepEqual(last('ListFunctions'), { MaxItems: 2, Marker: 'a b&c', FunctionVersion: 'ALL' });
    assert.deepEqual(result.Functions?.map((f) => f.FunctionName), ['a', 'b']);
    assert.equal(result.NextMarker, 'next page');
  });

  it('tags: an ARN label, a JSON map, and a repeated query list', async () => {
    await lambda.send(new TagResourceCommand({ Resource: ARN, Tags: { team: 'ml', 'cost centre': '42' } }));
    assert.deepEqual(last('TagResource'), { Resource: ARN, Tags: { team: 'ml', 'cost centre': '42' } });
    await lambda.send(new UntagResourceCommand({ Resource: ARN, TagKeys: ['team', 'cost centre'] }));
    assert.deepEqual(last('UntagResource'), { Resource: ARN, TagKeys: ['team', 'cost centre'] });
    assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: ARN }))).Tags, { team: 'ml', 'cost centre': '42' });
  });

  it('a timestamp shape comes back as a Date', async () => {
    const result = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'dog-breeds' }));
    assert.ok(result.LastModified instanceof Date);
    assert.equal(result.LastModified.toISOString(), '2026-12-01T18:25:17.000Z');
    assert.equal(result.MaximumRetryAttempts, 1);
  });
});
