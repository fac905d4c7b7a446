import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvalidParameterValueException,
  ListFunctionsCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  PutProvisionedConcurrencyConfigCommand,
  RemovePermissionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  TagResourceCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { zipFiles } from '../../runtime/functions/function-package.ts';
import { closeKennelWithClients, createFunctionRole, policy, startKennelWithClients, type AwsClientPool } from '../../testing/aws-clients.ts';
import type { TestKennel } from '../../testing/test-kennel.ts';

const HANDLER = 'export const handler = async (event) => ({ echoed: event });';

describe('Lambda control plane through @aws-sdk/client-lambda', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let lambda: LambdaClient;
  let roleArn: string;
  const waiter = () => ({ client: lambda, maxWaitTime: 30, minDelay: 1, maxDelay: 1 });

  before(async () => {
    ({ test, pool } = await startKennelWithClients());
    const clients = pool.for(test.credentials);
    lambda = clients.lambda;
    roleArn = await createFunctionRole(clients.iam, 'echo-role');
  });

  after(() => closeKennelWithClients(test, pool));

  const create = async (name: string, extra: Record<string, unknown> = {}) =>
    lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: roleArn,
        Code: { ZipFile: await zipFiles({ 'index.mjs': HANDLER }) },
        ...extra,
      }),
    );

  it('creates a function Pending, and the function_active_v2 waiter sees it Active', async () => {
    const created = await create('echo', { Environment: { Variables: { GREETING: 'woof' } }, MemorySize: 256, Tags: { team: 'vision' } });
    assert.equal(created.State, 'Pending');
    assert.equal(created.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:echo');
    assert.equal(created.Version, '$LATEST');
    assert.equal(created.MemorySize, 256);
    assert.equal(created.Timeout, 3);
    assert.match(created.CodeSha256!, /^[A-Za-z0-9+/]{43}=$/);
    await waitUntilFunctionActiveV2(waiter(), { FunctionName: 'echo' });
    const fetched = await lambda.send(new GetFunctionCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo' }));
    assert.equal(fetched.Configuration!.State, 'Active');
    assert.equal(fetched.Configuration!.LastUpdateStatus, 'Successful');
    assert.deepEqual(fetched.Configuration!.Environment, { Variables: { GREETING: 'woof' } });
    assert.deepEqual(fetched.Tags, { team: 'vision' });
    assert.equal(fetched.Code!.RepositoryType, 'S3');
    // Code.Location is presigned, as Lambda's S3 URL is: a plain GET downloads the package.
    const download = await fetch(fetched.Code!.Location!);
    assert.equal(download.status, 200);
    assert.equal(createHash('sha256').update(Buffer.from(await download.arrayBuffer())).digest('base64'), created.CodeSha256);
    const tampered = new URL(fetched.Code!.Location!);
    tampered.searchParams.set('version', '1');
    assert.equal((await fetch(tampered)).status, 403, 'the signature covers the version');
  });

  it('refuses a second function of the same name, a role Lambda cannot assume, and a runtime it does not run', async () => {
    await assert.rejects(create('echo'), (error: unknown) => error instanceof ResourceConflictException && /Function already exist: echo/.test(error.message));
    const iam = pool.for(test.credentials).iam;
    const { Role } = await iam.send(
      new CreateRoleCommand({ RoleName: 'not-for-lambda', AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 'sts:AssumeRole' }) }),
    );
    await assert.rejects(create('untrusted', { Role: Role!.Arn }), (error: unknown) => error instanceof InvalidParameterValueException && /cannot be assumed by Lambda/.test(error.message));
    await assert.rejects(create('ruby', { Runtime: 'ruby3.3' }), (error: unknown) => error instanceof InvalidParameterValueException && /nodejs20\.x/.test(error.message));
  });

  it('refuses settings naming what Kennel does not have, by name, instead of ignoring them; takes their empty values', async () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:pillow:1'] }, /^Layer version arn:aws:lambda:us-east-1:000000000000:layer:pillow:1 does not exist/],
      [{ VpcConfig: { SubnetIds: ['subnet-0abc'], SecurityGroupIds: [] } }, /^VpcConfig subnet-0abc does not exist/],
      [{ TracingConfig: { Mode: 'Active' } }, /^TracingConfig Mode Active is not supported: Kennel has no X-Ray/],
      [{ KMSKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/k' }, /^KMSKeyArn .* does not exist/],
      [{ Architectures: [process.arch === 'arm64' ? 'x86_64' : 'arm64'] }, /^Architectures \S+ is not supported: Kennel runs functions on this machine/],
    ];
    for (const [extra, message] of refused) {
      await assert.rejects(create('unsupported', extra), (error: unknown) => error instanceof InvalidParameterValueException && message.test(error.message), JSON.stringify(extra));
    }
    await assert.rejects(
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', TracingConfig: { Mode: 'Active' } })),
      (error: unknown) => error instanceof InvalidParameterValueException && /X-Ray/.test(error.message),
    );
    const plain = await create('plain-settings', { Layers: [], VpcConfig: { SubnetIds: [], SecurityGroupIds: [] }, TracingConfig: { Mode: 'PassThrough' }, Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'] });
    assert.deepEqual(plain.Architectures, [process.arch === 'arm64' ? 'arm64' : 'x86_64']);
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'plain-settings' }));
  });

  it('updates configuration and code, and function_updated_v2 waits for the update to land', async () => {
    const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Timeout: 10, Description: 'echoes' }));
    assert.equal(updated.LastUpdateStatus, 'InProgress');
    await waitUntilFunctionUpdatedV2(waiter(), { FunctionName: 'echo' });
    const code = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'echo', ZipFile: await zipFiles({ 'index.mjs': `${HANDLER}\n// v2` }) }));
    assert.notEqual(code.CodeSha256, updated.CodeSha256);
    await waitUntilFunctionUpdatedV2(waiter(), { FunctionName: 'echo' });
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }));
    assert.equal(configuration.Timeout, 10);
    assert.equal(configuration.Description, 'echoes');
    assert.equal(configuration.CodeSha256, code.CodeSha256);
  });

  it('publishes versions (none new when nothing changed), lists them, and routes an alias by weight', async () => {
    const one = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }));
    assert.equal(one.Version, '1');
    assert.equal(one.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:echo:1');
    assert.equal((await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))).Version, '1');
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', MemorySize: 512 }));
    await waitUntilFunctionUpdatedV2(waiter(), { FunctionName: 'echo' });
    assert.equal((await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))).Version, '2');
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'echo' }));
    assert.deepEqual(versions.Versions!.map((v) => v.Version), ['$LATEST', '1', '2']);

    const alias = await lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } }));
    assert.equal(alias.AliasArn, 'arn:aws:lambda:us-east-1:000000000000:function:echo:live');
    assert.deepEqual(alias.RoutingConfig, { AdditionalVersionWeights: { '2': 0.25 } });
    const moved = await lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } }));
    assert.equal(moved.FunctionVersion, '2');
    assert.equal(moved.RoutingConfig, undefined);
    assert.equal((await lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' }))).RevisionId, moved.RevisionId);
    const viaAlias = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo', Qualifier: 'live' }));
    assert.equal(viaAlias.Version, '2');
    await assert.rejects(lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'nope' })), ResourceNotFoundException);
  });

  it('reserves concurrency within the account, keeping 100 unreserved, and GetAccountSettings reports it', async () => {
    assert.equal((await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'echo', ReservedConcurrentExecutions: 5 }))).ReservedConcurrentExecutions, 5);
    assert.equal((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'echo' }))).ReservedConcurrentExecutions, 5);
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    assert.equal(settings.AccountLimit!.ConcurrentExecutions, 1000);
    assert.equal(settings.AccountLimit!.UnreservedConcurrentExecutions, 995);
    assert.ok(settings.AccountUsage!.FunctionCount! >= 1);
    await assert.rejects(
      lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'echo', ReservedConcurrentExecutions: 901 })),
      (error: unknown) => error instanceof InvalidParameterValueException && /below its minimum value of \[100\]/.test(error.message),
    );
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'echo' }));
    assert.equal((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'echo' }))).ReservedConcurrentExecutions, undefined);
  });

  it('provisions concurrency on an alias: IN_PROGRESS, then READY', async () => {
    const put = await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'echo', Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    assert.equal(put.RequestedProvisionedConcurrentExecutions, 1);
    assert.ok(put.Status === 'IN_PROGRESS' || put.Status === 'READY');
    let status: string | undefined = put.Status;
    for (let i = 0; i < 150 && status !== 'READY'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'echo', Qualifier: 'live' }))).Status;
    }
    assert.equal(status, 'READY');
    const listed = await lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'echo' }));
    assert.deepEqual(listed.ProvisionedConcurrencyConfigs!.map((c) => [c.FunctionArn, c.AvailableProvisionedConcurrentExecutions]), [['arn:aws:lambda:us-east-1:000000000000:function:echo:live', 1]]);
    await assert.rejects(
      lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'echo', Qualifier: '$LATEST', ProvisionedConcurrentExecutions: 1 })),
      InvalidParameterValueException,
    );
    await lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'echo', Qualifier: 'live' }));
  });

  it('keeps a resource-based policy: AddPermission, GetPolicy, RemovePermission', async () => {
    const added = await lambda.send(new AddPermissionCommand({ FunctionName: 'echo', StatementId: 's3-invoke', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', SourceArn: 'arn:aws:s3:::dogs' }));
    assert.equal(JSON.parse(added.Statement!).Sid, 's3-invoke');
    const { Policy } = await lambda.send(new GetPolicyCommand({ FunctionName: 'echo' }));
    assert.deepEqual(JSON.parse(Policy!).Statement[0].Principal, { Service: 's3.amazonaws.com' });
    await assert.rejects(
      lambda.send(new AddPermissionCommand({ FunctionName: 'echo', StatementId: 's3-invoke', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com' })),
      ResourceConflictException,
    );
    await lambda.send(new RemovePermissionCommand({ FunctionName: 'echo', StatementId: 's3-invoke' }));
    await assert.rejects(lambda.send(new GetPolicyCommand({ FunctionName: 'echo' })), ResourceNotFoundException);
  });

  it('keeps async settings per qualifier, with a function its execution role may invoke as the on-failure destination', async () => {
    await create('echo-failures');
    const settings = {
      FunctionName: 'echo',
      MaximumRetryAttempts: 1,
      MaximumEventAgeInSeconds: 120,
      DestinationConfig: { OnFailure: { Destination: 'arn:aws:lambda:us-east-1:000000000000:function:echo-failures' } },
    };
    await assert.rejects(lambda.send(new PutFunctionEventInvokeConfigCommand(settings)), (error: Error) => {
      assert.ok(error instanceof InvalidParameterValueException);
      assert.match(error.message, /^The destination ARN arn:aws:lambda:us-east-1:000000000000:function:echo-failures is invalid: the function's execution role arn:aws:iam::000000000000:role\/echo-role is not allowed lambda:InvokeFunction on it\.$/);
      return true;
    });
    await assert.rejects(
      lambda.send(new PutFunctionEventInvokeConfigCommand({ ...settings, DestinationConfig: { OnFailure: { Destination: 'arn:aws:lambda:us-east-1:000000000000:function:nowhere' } } })),
      /The destination ARN .*:function:nowhere is invalid: the function does not exist/,
    );
    await assert.rejects(
      lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'echo', MaximumRetryAttempts: 0 })),
      (error: unknown) => error instanceof ResourceNotFoundException && /^The function arn:aws:lambda:us-east-1:000000000000:function:echo doesn't have an EventInvokeConfig$/.test(error.message),
    );
    // Granted by the destination's resource-based policy, naming the role.
    await lambda.send(new AddPermissionCommand({ FunctionName: 'echo-failures', StatementId: 'echo-records', Action: 'lambda:InvokeFunction', Principal: roleArn }));
    await lambda.send(new PutFunctionEventInvokeConfigCommand(settings));
    const config = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'echo' }));
    assert.equal(config.MaximumRetryAttempts, 1);
    assert.equal(config.MaximumEventAgeInSeconds, 120);
    assert.equal(config.DestinationConfig!.OnFailure!.Destination, 'arn:aws:lambda:us-east-1:000000000000:function:echo-failures');
    assert.ok(config.LastModified instanceof Date);
    const updated = await lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'echo', MaximumRetryAttempts: 0 }));
    assert.deepEqual([updated.MaximumRetryAttempts, updated.MaximumEventAgeInSeconds, updated.DestinationConfig?.OnFailure?.Destination], [0, 120, settings.DestinationConfig.OnFailure.Destination], 'only what was given changes');
    await assert.rejects(
      lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'echo', DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:dlq' } } })),
      InvalidParameterValueException,
    );
  });

  it('tags by function ARN, and lists every function with paging', async () => {
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:echo';
    await lambda.send(new TagResourceCommand({ Resource: arn, Tags: { stage: 'dev' } }));
    assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags, { team: 'vision', stage: 'dev' });
    const first = await lambda.send(new ListFunctionsCommand({ MaxItems: 1 }));
    assert.equal(first.Functions!.length, 1);
    assert.ok(first.NextMarker);
    const rest = await lambda.send(new ListFunctionsCommand({ Marker: first.NextMarker }));
    assert.deepEqual([...first.Functions!, ...rest.Functions!].map((f) => f.FunctionName), ['echo', 'echo-failures']);
  });

  it('deletes a version an alias does not use, refuses one it does, and deletes the function with everything it has', async () => {
    await assert.rejects(lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo', Qualifier: '2' })), ResourceConflictException);
    await assert.rejects(lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo', Qualifier: '$LATEST' })), (error: unknown) => error instanceof InvalidParameterValueException && /^\$LATEST version cannot be deleted/.test(error.message));
    await assert.rejects(lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo', Qualifier: 'live' })), (error: unknown) => error instanceof InvalidParameterValueException && /^Qualifier live is not a version number: .*DeleteAlias/.test(error.message));
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo', Qualifier: '1' }));
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo' }));
    await assert.rejects(
      lambda.send(new GetFunctionCommand({ FunctionName: 'echo' })),
      (error: unknown) => error instanceof ResourceNotFoundException && /Function not found: arn:aws:lambda:us-east-1:000000000000:function:echo/.test(error.message),
    );
    await assert.rejects(lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' })), ResourceNotFoundException);
  });
});
