import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AttachRolePolicyCommand, CreateRoleCommand, CreateUserCommand, DetachRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DeleteEndpointCommand, DescribeEndpointCommand, ListEndpointsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { provisionUser, type TestCredentials } from '../testing/iam-fixtures.ts';
import { runKennelCli } from '../testing/kennel-cli.ts';
import { deploySlowClassifier, startTestKennel, type TestKennel } from '../testing/test-kennel.ts';

const ENDPOINT_ARN = 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dog-breeds';
const ROLE_ARN = 'arn:aws:iam::000000000000:role/dog-breeds-client';

/**
 * The reference workload's mistake, fixed with Kennel's tools: a client role
 * holds AmazonSageMakerFullAccess but only ever invokes one endpoint. Kennel
 * suggests the policy its use needs; with that policy in place of the broad
 * one the client still works and everything else is denied.
 */
describe('least privilege from use', () => {
  let test: TestKennel;
  let image: Uint8Array;
  let clientUser: TestCredentials;

  const clients = (credentials: TestCredentials) => {
    const config = { endpoint: test.url, region: 'us-east-1', credentials };
    return { runtime: new SageMakerRuntimeClient(config), sagemaker: new SageMakerClient(config), sts: new STSClient(config) };
  };
  /** A fresh session of the role, as the client would start one. */
  const assumeRole = async (): Promise<TestCredentials> => {
    const { Credentials } = await clients(clientUser).sts.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'classifier' }));
    return { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
  };
  const invoke = (credentials: TestCredentials) =>
    clients(credentials).runtime.send(new InvokeEndpointCommand({ EndpointName: 'dog-breeds', ContentType: 'image/jpeg', Body: image }));
  const deniedCode = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => assert.fail('the call was allowed'),
      (failure: Error & { $metadata?: { httpStatusCode?: number } }) => failure,
    );
    return { name: error.name, status: error.$metadata?.httpStatusCode, message: error.message };
  };

  before(async () => {
    test = await startTestKennel();
    image = await deploySlowClassifier(test, 'dog-breeds');
    const admin = new IAMClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials });
    await admin.send(new CreateUserCommand({ UserName: 'classifier-app' }));
    clientUser = provisionUser(test.kennel.platform, 'classifier-app');
    await admin.send(
      new CreateRoleCommand({
        RoleName: 'dog-breeds-client',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/classifier-app' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await admin.send(new AttachRolePolicyCommand({ RoleName: 'dog-breeds-client', PolicyArn: 'arn:aws:iam::aws:policy/AmazonSageMakerFullAccess' }));
  });
  after(async () => {
    await test?.close();
  });

  it('suggests exactly sagemaker:InvokeEndpoint on the endpoint, lists the rest as unused, and the suggestion replaces the broad policy', async () => {
    const session = await assumeRole();
    for (let i = 0; i < 3; i++) assert.equal((await invoke(session)).$metadata.httpStatusCode, 200);

    const out = join(test.home, 'suggested.json');
    const suggested = await runKennelCli(test, ['iam', 'suggest-policy', '--principal', ROLE_ARN, '--since', '1h', '--out', out]);
    assert.equal(suggested.code, 0, suggested.stderr);
    const policy = JSON.parse(await readFile(out, 'utf8'));
    assert.deepEqual(JSON.parse(suggested.stdout), policy);
    assert.deepEqual(
      policy.Statement.map((statement: { Effect: string; Action: string[]; Resource: string[] }) => ({ Effect: statement.Effect, Action: statement.Action, Resource: statement.Resource })),
      [{ Effect: 'Allow', Action: ['sagemaker:InvokeEndpoint'], Resource: [ENDPOINT_ARN] }],
    );

    const unused = await runKennelCli(test, ['--output', 'json', 'iam', 'unused', '--principal', ROLE_ARN, '--since', '1h']);
    assert.equal(unused.code, 0, unused.stderr);
    const unusedActions = (JSON.parse(unused.stdout) as { action: string }[]).map((entry) => entry.action);
    assert.ok(unusedActions.includes('sagemaker:DeleteEndpoint'), unusedActions.join(', '));
    assert.ok(!unusedActions.includes('sagemaker:InvokeEndpoint'));

    const admin = new IAMClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials });
    await admin.send(new PutRolePolicyCommand({ RoleName: 'dog-breeds-client', PolicyName: 'invoke-dog-breeds', PolicyDocument: JSON.stringify(policy) }));
    await admin.send(new DetachRolePolicyCommand({ RoleName: 'dog-breeds-client', PolicyArn: 'arn:aws:iam::aws:policy/AmazonSageMakerFullAccess' }));

    const narrowed = await assumeRole();
    assert.equal((await invoke(narrowed)).$metadata.httpStatusCode, 200, 'the client still works');
    const sagemaker = clients(narrowed).sagemaker;
    for (const call of [
      sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'dog-breeds' })),
      sagemaker.send(new ListEndpointsCommand({})),
      sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'dog-breeds' })),
    ]) {
      const denied = await deniedCode(call);
      assert.equal(denied.name, 'AccessDeniedException');
      assert.match(denied.message, /assumed-role\/dog-breeds-client\/classifier is not authorized to perform: sagemaker:\w+/);
    }
    assert.equal(test.kennel.platform.deps.store.endpoints.get('dog-breeds')?.status, 'InService', 'the denied delete changed nothing');
    const audit = await runKennelCli(test, ['iam', 'audit', '--action', 'sagemaker:DeleteEndpoint', '--jsonl']);
    const events = audit.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(events.length, 1);
    assert.equal(events[0].decision, 'ImplicitDeny');
    assert.equal(events[0].principalArn, 'arn:aws:sts::000000000000:assumed-role/dog-breeds-client/classifier');
  });
});
