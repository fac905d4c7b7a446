import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteUserPermissionsBoundaryCommand,
  DetachRolePolicyCommand,
  GetUserCommand,
  ListUsersCommand,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { DeleteEndpointCommand, DescribeEndpointCommand, ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { TestKennel } from '../../testing/test-kennel.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';
import { AwsClientPool, createUserWithKey, policy, sessionCredentials, type AwsClients, closeKennelWithClients, startKennelWithClients } from '../../testing/aws-clients.ts';

/**
 * Every request is decided by AWS's policy evaluation: what a user with no
 * policies, a role session, an explicit deny and a permissions boundary get
 * from IAM, STS, SageMaker and SageMaker Runtime, through the AWS SDK clients
 * against a real Kennel, in AWS's words.
 */
const ACCOUNT = '000000000000';
const SAGEMAKER_READ = 'arn:aws:iam::aws:policy/AmazonSageMakerReadOnly';
const SAGEMAKER_FULL = 'arn:aws:iam::aws:policy/AmazonSageMakerFullAccess';
const ENDPOINT_X = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/x`;
const userArn = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;
const notAllowed = (who: string, action: string, resource: string) =>
  `User: ${who} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

describe('authorisation of every request by policy evaluation', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let iam: IAMClient;

  before(async () => {
    ({ test, pool, iam } = await startKennelWithClients());
  });
  after(() => closeKennelWithClients(test, pool));

  const newUser = async (name: string): Promise<AwsClients> => pool.for(await createUserWithKey(iam, name));

  it('a user with no policies is denied everywhere, in each service’s error format, but may ask who it is', async () => {
    const nobody = await newUser('nobody');
    const iamDenied = await sdkFailure(nobody.iam.send(new GetUserCommand({})));
    assert.deepEqual(iamDenied, { name: 'AccessDenied', status: 403, message: notAllowed(userArn('nobody'), 'iam:GetUser', userArn('nobody')) });
    const listUsers = await sdkFailure(nobody.iam.send(new ListUsersCommand({})));
    assert.deepEqual([listUsers.name, listUsers.status, listUsers.message], ['AccessDenied', 403, notAllowed(userArn('nobody'), 'iam:ListUsers', '*')]);

    // SageMaker's JSON control plane answers AccessDeniedException with 400, as AWS does.
    const deleteEndpoint = await sdkFailure(nobody.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'x' })));
    assert.deepEqual(deleteEndpoint, { name: 'AccessDeniedException', status: 400, message: notAllowed(userArn('nobody'), 'sagemaker:DeleteEndpoint', ENDPOINT_X) });
    assert.match(deleteEndpoint.message, /is not authorized to perform: sagemaker:DeleteEndpoint on resource: arn:aws:sagemaker:us-east-1:000000000000:endpoint\/x/);
    const invoke = await sdkFailure(nobody.runtime.send(new InvokeEndpointCommand({ EndpointName: 'x', ContentType: 'application/json', Body: '{}' })));
    assert.deepEqual(invoke, { name: 'AccessDeniedException', status: 403, message: notAllowed(userArn('nobody'), 'sagemaker:InvokeEndpoint', ENDPOINT_X) });

    const identity = await nobody.sts.send(new GetCallerIdentityCommand({}));
    assert.deepEqual([identity.Arn, identity.Account], [userArn('nobody'), ACCOUNT]);
  });

  it('AssumeRole of a role that trusts the user gives credentials that the role’s policies decide for, as they change', async () => {
    const trusted = await newUser('trusted');
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'endpoint-reader',
        AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: userArn('trusted') }, Action: 'sts:AssumeRole' }),
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'endpoint-reader', PolicyArn: SAGEMAKER_READ }));
    // The user has no policies of its own: a trust policy naming the user is enough.
    const assumed = await trusted.sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/endpoint-reader`, RoleSessionName: 'reading' }));
    const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/endpoint-reader/reading`;
    assert.equal(assumed.AssumedRoleUser?.Arn, sessionArn);
    assert.match(assumed.Credentials!.AccessKeyId!, /^ASIA[A-Z0-9]{16}$/);
    const session = pool.for(sessionCredentials(assumed.Credentials));
    assert.equal((await session.sts.send(new GetCallerIdentityCommand({}))).Arn, sessionArn);

    assert.deepEqual((await session.sagemaker.send(new ListEndpointsCommand({}))).Endpoints, []);
    // Allowed, so the answer is SageMaker's own: there is no such endpoint.
    const describe = await sdkFailure(session.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'x' })));
    assert.equal(describe.name, 'ValidationException');
    const deleteEndpoint = await sdkFailure(session.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'x' })));
    assert.deepEqual(deleteEndpoint, { name: 'AccessDeniedException', status: 400, message: notAllowed(sessionArn, 'sagemaker:DeleteEndpoint', ENDPOINT_X) });
    const iamDenied = await sdkFailure(session.iam.send(new ListUsersCommand({})));
    assert.deepEqual([iamDenied.name, iamDenied.status], ['AccessDenied', 403]);

    // The session holds the role's current policies, not a copy from when it began.
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'endpoint-reader', PolicyArn: SAGEMAKER_READ }));
    const afterDetach = await sdkFailure(session.sagemaker.send(new ListEndpointsCommand({})));
    assert.deepEqual([afterDetach.name, afterDetach.message], ['AccessDeniedException', notAllowed(sessionArn, 'sagemaker:ListEndpoints', '*')]);

    // Another user, not named by the trust policy and without policies, may not assume it.
    const stranger = await newUser('stranger');
    const refused = await sdkFailure(stranger.sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/endpoint-reader`, RoleSessionName: 'strange' })));
    assert.deepEqual([refused.name, refused.status], ['AccessDenied', 403]);
    assert.match(refused.message, new RegExp(`^User: ${userArn('stranger')} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${ACCOUNT}:role/endpoint-reader`));
  });

  it('a trust policy that names only the account leaves it to the user’s identity policy to allow sts:AssumeRole', async () => {
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/account-trusted`;
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'account-trusted',
        AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }),
      }),
    );
    const member = await newUser('member');
    const denied = await sdkFailure(member.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'try' })));
    assert.deepEqual(denied, { name: 'AccessDenied', status: 403, message: notAllowed(userArn('member'), 'sts:AssumeRole', roleArn) });

    await iam.send(new PutUserPolicyCommand({ UserName: 'member', PolicyName: 'assume', PolicyDocument: policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }) }));
    const assumed = await member.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'allowed' }));
    assert.equal(assumed.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/account-trusted/allowed`);
    // The identity policy names this role only.
    await iam.send(new CreateRoleCommand({ RoleName: 'other', AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }) }));
    const other = await sdkFailure(member.sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/other`, RoleSessionName: 'try' })));
    assert.equal(other.name, 'AccessDenied');
  });

  it('an explicit Deny in an inline policy beats an Allow from a managed policy', async () => {
    const denied = await newUser('denied');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'denied', PolicyArn: SAGEMAKER_FULL }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'denied', PolicyName: 'no-deletes', PolicyDocument: policy({ Effect: 'Deny', Action: 'sagemaker:Delete*', Resource: '*' }) }));
    assert.deepEqual((await denied.sagemaker.send(new ListEndpointsCommand({}))).Endpoints, []);
    const deleteEndpoint = await sdkFailure(denied.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'x' })));
    assert.deepEqual(deleteEndpoint, {
      name: 'AccessDeniedException',
      status: 400,
      message: `User: ${userArn('denied')} is not authorized to perform: sagemaker:DeleteEndpoint on resource: ${ENDPOINT_X} with an explicit deny in an identity-based policy`,
    });
  });

  it('a permissions boundary limits a user with AdministratorAccess to what both allow, until it is removed', async () => {
    const bounded = await newUser('bounded');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'bounded', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    assert.ok((await bounded.iam.send(new ListUsersCommand({}))).Users!.length > 0);
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'bounded', PermissionsBoundary: SAGEMAKER_READ }));

    assert.deepEqual((await bounded.sagemaker.send(new ListEndpointsCommand({}))).Endpoints, []);
    const deleteEndpoint = await sdkFailure(bounded.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'x' })));
    assert.deepEqual([deleteEndpoint.name, deleteEndpoint.status], ['AccessDeniedException', 400]);
    assert.match(deleteEndpoint.message, /is not authorized to perform: sagemaker:DeleteEndpoint on resource: arn:aws:sagemaker:us-east-1:000000000000:endpoint\/x/);
    const listUsers = await sdkFailure(bounded.iam.send(new ListUsersCommand({})));
    assert.deepEqual([listUsers.name, listUsers.status], ['AccessDenied', 403]);
    // Nor can it lift its own boundary.
    const lift = await sdkFailure(bounded.iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: 'bounded' })));
    assert.equal(lift.name, 'AccessDenied');

    await iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: 'bounded' }));
    assert.ok((await bounded.iam.send(new ListUsersCommand({}))).Users!.length > 0);
  });

  it('a group’s policies apply to its members while they belong to it', async () => {
    const grouped = await newUser('grouped');
    await iam.send(new CreateGroupCommand({ GroupName: 'readers' }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: SAGEMAKER_READ }));
    assert.equal((await sdkFailure(grouped.sagemaker.send(new ListEndpointsCommand({})))).name, 'AccessDeniedException');
    await iam.send(new AddUserToGroupCommand({ GroupName: 'readers', UserName: 'grouped' }));
    assert.deepEqual((await grouped.sagemaker.send(new ListEndpointsCommand({}))).Endpoints, []);
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'readers', UserName: 'grouped' }));
    assert.equal((await sdkFailure(grouped.sagemaker.send(new ListEndpointsCommand({})))).name, 'AccessDeniedException');
  });

  it('a user may not create users unless a policy allows it, and then only what it allows', async () => {
    const creator = await newUser('creator');
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'creator',
        PolicyName: 'create-interns',
        PolicyDocument: policy({ Effect: 'Allow', Action: 'iam:CreateUser', Resource: `arn:aws:iam::${ACCOUNT}:user/interns/*` }),
      }),
    );
    const intern = await creator.iam.send(new CreateUserCommand({ UserName: 'intern1', Path: '/interns/' }));
    assert.equal(intern.User?.Arn, `arn:aws:iam::${ACCOUNT}:user/interns/intern1`);
    const elsewhere = await sdkFailure(creator.iam.send(new CreateUserCommand({ UserName: 'boss' })));
    assert.deepEqual(elsewhere, { name: 'AccessDenied', status: 403, message: notAllowed(userArn('creator'), 'iam:CreateUser', userArn('boss')) });
    assert.equal((await sdkFailure(iam.send(new GetUserCommand({ UserName: 'boss' })))).name, 'NoSuchEntityException');
  });
});
