import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetUserPolicyCommand,
  ListPoliciesCommand,
  PutUserPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { AwsClientPool, createUserWithKey, policy, sessionCredentials, type AwsClients, closeKennelWithClients, startKennelWithClients } from '../../testing/aws-clients.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';
import { signedFetch } from '../../testing/signed-fetch.ts';
import type { TestKennel } from '../../testing/test-kennel.ts';

const ACCOUNT = '000000000000';
const BOUNDARY = 'arn:aws:iam::aws:policy/AmazonSageMakerReadOnly';

/**
 * IAM where it is easy to get wrong: tag conditions on IAM's own actions,
 * delegated administration through iam:PermissionsBoundary, names reused after
 * a delete, names that are also JavaScript's, policies the evaluator could not
 * read, and paging through every policy.
 */
describe('IAM edge cases', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let iam: IAMClient;
  let delegate: AwsClients;

  before(async () => {
    ({ test, pool, iam } = await startKennelWithClients());
    delegate = pool.for(await createUserWithKey(iam, 'delegate'));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'delegate',
        PolicyName: 'delegated-admin',
        PolicyDocument: policy(
          { Effect: 'Allow', Action: 'iam:*', Resource: '*' },
          { Effect: 'Deny', Action: 'iam:AttachRolePolicy', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/protected': 'true' } } },
          { Effect: 'Deny', Action: 'iam:CreateUser', Resource: '*', Condition: { StringNotEquals: { 'iam:PermissionsBoundary': BOUNDARY } } },
        ),
      }),
    );
    const trust = policy({ Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 'sts:AssumeRole' });
    await iam.send(new CreateRoleCommand({ RoleName: 'guarded', AssumeRolePolicyDocument: trust, Tags: [{ Key: 'protected', Value: 'true' }] }));
    await iam.send(new CreateRoleCommand({ RoleName: 'open', AssumeRolePolicyDocument: trust }));
  });
  after(() => closeKennelWithClients(test, pool));

  it('applies aws:ResourceTag conditions to IAM actions on tagged roles', async () => {
    const attach = (roleName: string) => delegate.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    assert.equal((await sdkFailure(attach('guarded'))).name, 'AccessDenied');
    assert.equal((await attach('open')).$metadata.httpStatusCode, 200);
  });

  it('lets a delegated administrator create users only with the boundary it must set', async () => {
    assert.equal((await sdkFailure(delegate.iam.send(new CreateUserCommand({ UserName: 'unbounded' })))).name, 'AccessDenied');
    const created = await delegate.iam.send(new CreateUserCommand({ UserName: 'bounded', PermissionsBoundary: BOUNDARY }));
    assert.equal(created.User?.PermissionsBoundary?.PermissionsBoundaryArn, BOUNDARY);
  });

  it('does not hand an old session to a new user of the same name', async () => {
    const bob = pool.for(await createUserWithKey(iam, 'bob'));
    const { Credentials } = await bob.sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const oldSession = pool.for(sessionCredentials(Credentials));
    assert.match((await oldSession.sts.send(new GetCallerIdentityCommand({}))).Arn!, /user\/bob$/);
    const [key] = test.kennel.platform.iam.listAccessKeys('bob');
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: key!.accessKeyId }));
    await iam.send(new DeleteUserCommand({ UserName: 'bob' }));
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    assert.equal((await sdkFailure(oldSession.sts.send(new GetCallerIdentityCommand({})))).name, 'InvalidClientTokenId');
  });

  it('treats inline policy names such as constructor as names, not as JavaScript’s', async () => {
    for (const name of ['constructor', 'toString', '__proto__']) {
      const missing = await sdkFailure(iam.send(new GetUserPolicyCommand({ UserName: 'delegate', PolicyName: name })));
      assert.equal(missing.name, 'NoSuchEntityException', name);
      assert.equal((await sdkFailure(iam.send(new DeleteUserPolicyCommand({ UserName: 'delegate', PolicyName: name })))).name, 'NoSuchEntityException', name);
    }
  });

  it('refuses, when written, policies the evaluator could not read, instead of failing every later request', async () => {
    const partlyWildcarded = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/*` }, Action: 'sts:AssumeRole' });
    const unknownOperator = policy({ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole', Condition: { StringEqualz: { 'sts:ExternalId': 'x' } } });
    for (const document of [partlyWildcarded, unknownOperator]) {
      const refused = await sdkFailure(iam.send(new CreateRoleCommand({ RoleName: 'broken', AssumeRolePolicyDocument: document })));
      assert.equal(refused.name, 'MalformedPolicyDocumentException', document);
    }
    const badCondition = policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericLessThan: { 's3:max-keys': 'ten' } } });
    assert.equal((await sdkFailure(iam.send(new PutUserPolicyCommand({ UserName: 'delegate', PolicyName: 'bad', PolicyDocument: badCondition })))).name, 'MalformedPolicyDocumentException');
  });

  it('pages through every policy, AWS managed and the account’s, each once', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await iam.send(new ListPoliciesCommand({ MaxItems: 3, ...(marker ? { Marker: marker } : {}) }));
      seen.push(...page.Policies!.map((p) => p.Arn!));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker && seen.length < 1000);
    assert.equal(new Set(seen).size, seen.length, 'no policy twice');
    assert.equal(seen.length, test.kennel.platform.iam.policies.list().length);
  });

  it('authorises RegisterDataset on the dataset it names', async () => {
    const register = (name: string) =>
      signedFetch(`${test.url}/kennel/datasets`, {
        service: 'kennel',
        credentials: test.credentials,
        body: JSON.stringify({ name, path: '/nonexistent' }),
        headers: { 'content-type': 'application/json' },
      });
    await register('prod-dogs');
    const [event] = test.kennel.platform.audit.query({ action: 'kennel:RegisterDataset' });
    assert.equal(event?.resource, `arn:aws:kennel:us-east-1:${ACCOUNT}:dataset/prod-dogs`);
  });
});
