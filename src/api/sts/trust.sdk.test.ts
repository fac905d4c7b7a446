import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AttachRolePolicyCommand, CreateRoleCommand, CreateUserCommand, PutUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../../domain/iam/arn.ts';
import { AwsClientPool, createUserWithKey, policy, sessionCredentials, type AwsClients, closeKennelWithClients, startKennelWithClients } from '../../testing/aws-clients.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';
import type { TestKennel } from '../../testing/test-kennel.ts';

/**
 * A role is assumed only by those its trust policy lets in: allowing
 * sts:AssumeRole on "*" in one's own policy opens no role that does not trust
 * the caller. Session policies, inline or by ARN, narrow the session.
 */
const roleArn = (name: string) => `arn:aws:iam::000000000000:role/${name}`;

describe('trust policies and session policies', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let iam: IAMClient;
  let mallory: AwsClients;

  before(async () => {
    ({ test, pool, iam } = await startKennelWithClients());
    mallory = pool.for(await createUserWithKey(iam, 'mallory'));
    await iam.send(new PutUserPolicyCommand({ UserName: 'mallory', PolicyName: 'assume-anything', PolicyDocument: policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }) }));
    await iam.send(new CreateUserCommand({ UserName: 'admin-only-trusted' }));
    const trust = (principal: unknown, condition?: unknown) =>
      policy({ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole', ...(condition ? { Condition: condition } : {}) });
    await iam.send(new CreateRoleCommand({ RoleName: 'admins', AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:user/admin' }) }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'admins', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    await iam.send(new CreateRoleCommand({ RoleName: 'partner', AssumeRolePolicyDocument: trust({ AWS: '000000000000' }, { StringEquals: { 'sts:ExternalId': 'abc' } }) }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'partner', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
  });
  after(() => closeKennelWithClients(test, pool));

  const assume = (input: ConstructorParameters<typeof AssumeRoleCommand>[0]) => mallory.sts.send(new AssumeRoleCommand(input));

  it('refuses roles whose trust policy does not let the caller in, even when the caller may assume anything', async () => {
    for (const arn of [KENNEL_EXECUTION_ROLE_ARN, roleArn('admins'), roleArn('no-such-role')]) {
      const failure = await sdkFailure(assume({ RoleArn: arn, RoleSessionName: 'takeover' }));
      assert.equal(failure.name, 'AccessDenied', arn);
      assert.equal(failure.status, 403, arn);
      assert.match(failure.message, new RegExp(`user/mallory is not authorized to perform: sts:AssumeRole on resource: ${arn}`));
    }
  });

  it('checks sts:ExternalId when the trust policy asks for it', async () => {
    assert.equal((await sdkFailure(assume({ RoleArn: roleArn('partner'), RoleSessionName: 'p1' }))).name, 'AccessDenied');
    assert.equal((await sdkFailure(assume({ RoleArn: roleArn('partner'), RoleSessionName: 'p2', ExternalId: 'wrong' }))).name, 'AccessDenied');
    const { Credentials } = await assume({ RoleArn: roleArn('partner'), RoleSessionName: 'p3', ExternalId: 'abc' });
    assert.ok(Credentials?.SessionToken);
  });

  it('narrows the session to PolicyArns, and refuses one that does not exist', async () => {
    const { Credentials } = await assume({ RoleArn: roleArn('partner'), RoleSessionName: 'narrow', ExternalId: 'abc', PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/AmazonSageMakerReadOnly' }] });
    const session = pool.for(sessionCredentials(Credentials));
    assert.equal((await session.sagemaker.send(new ListEndpointsCommand({}))).$metadata.httpStatusCode, 200);
    const refused = await sdkFailure(session.iam.send(new CreateUserCommand({ UserName: 'escalated' })));
    assert.equal(refused.name, 'AccessDenied');
    const missing = await sdkFailure(assume({ RoleArn: roleArn('partner'), RoleSessionName: 'missing', ExternalId: 'abc', PolicyArns: [{ arn: 'arn:aws:iam::000000000000:policy/nope' }] }));
    assert.equal(missing.status, 404);
  });
});
