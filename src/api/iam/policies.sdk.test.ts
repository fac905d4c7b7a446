import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteGroupPolicyCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRolePermissionsBoundaryCommand,
  DeleteRolePolicyCommand,
  DeleteUserPermissionsBoundaryCommand,
  DeleteUserPolicyCommand,
  DetachGroupPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListGroupPoliciesCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  PutGroupPolicyCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
  SetDefaultPolicyVersionCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { TestKennel } from '../../testing/test-kennel.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';
import { AwsClientPool, policy, closeKennelWithClients, startKennelWithClients } from '../../testing/aws-clients.ts';

/**
 * Managed and inline policies and permission boundaries through
 * @aws-sdk/client-iam against a real Kennel: versions, attachments (AWS
 * managed ARNs included), documents as AWS returns them (URL-encoded), and
 * the validation that refuses a policy with errors.
 */
const ACCOUNT = '000000000000';
const SAGEMAKER_FULL = 'arn:aws:iam::aws:policy/AmazonSageMakerFullAccess';
const SAGEMAKER_READ = 'arn:aws:iam::aws:policy/AmazonSageMakerReadOnly';
const LIST_ENDPOINTS = policy({ Sid: 'List', Effect: 'Allow', Action: 'sagemaker:ListEndpoints', Resource: '*' });
const DESCRIBE_ENDPOINTS = policy({ Sid: 'Describe', Effect: 'Allow', Action: ['sagemaker:DescribeEndpoint', 'sagemaker:ListEndpoints'], Resource: '*' });
const TRUST = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' });

describe('IAM policies through @aws-sdk/client-iam', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let iam: IAMClient;

  before(async () => {
    ({ test, pool, iam } = await startKennelWithClients());
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(new CreateGroupCommand({ GroupName: 'trainers' }));
    await iam.send(new CreateRoleCommand({ RoleName: 'deployer', AssumeRolePolicyDocument: TRUST }));
  });
  after(() => closeKennelWithClients(test, pool));

  it('managed policies: create, get, versions (create, list, set default, delete), list by scope, delete', async () => {
    const { Policy } = await iam.send(
      new CreatePolicyCommand({ PolicyName: 'endpoint-reader', Path: '/ml/', PolicyDocument: LIST_ENDPOINTS, Description: 'lists endpoints', Tags: [{ Key: 'team', Value: 'ml' }] }),
    );
    const arn = `arn:aws:iam::${ACCOUNT}:policy/ml/endpoint-reader`;
    assert.equal(Policy?.Arn, arn);
    assert.match(Policy!.PolicyId!, /^ANPA[A-Z0-9]{17}$/);
    assert.equal(Policy?.DefaultVersionId, 'v1');
    assert.equal(Policy?.AttachmentCount, 0);
    assert.equal(Policy?.IsAttachable, true);
    assert.equal(Policy?.Description, 'lists endpoints');
    assert.deepEqual(Policy?.Tags, [{ Key: 'team', Value: 'ml' }]);
    assert.deepEqual((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.Arn, arn);
    const clash = await sdkFailure(iam.send(new CreatePolicyCommand({ PolicyName: 'Endpoint-Reader', Path: '/ml/', PolicyDocument: LIST_ENDPOINTS })));
    assert.deepEqual(clash, { name: 'EntityAlreadyExistsException', status: 409, message: 'A policy called Endpoint-Reader already exists. Duplicate names are not allowed.' });

    const v1 = (await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' }))).PolicyVersion!;
    assert.equal(v1.IsDefaultVersion, true);
    assert.equal(decodeURIComponent(v1.Document!), LIST_ENDPOINTS);

    const v2 = (await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: DESCRIBE_ENDPOINTS }))).PolicyVersion!;
    assert.deepEqual([v2.VersionId, v2.IsDefaultVersion], ['v2', false]);
    const versions = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions!;
    assert.deepEqual(versions.map((v) => [v.VersionId, v.IsDefaultVersion]), [['v2', false], ['v1', true]]);
    assert.ok(versions.every((v) => v.Document === undefined && v.CreateDate instanceof Date));

    await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' }));
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.DefaultVersionId, 'v2');
    const deleteDefault = await sdkFailure(iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' })));
    assert.deepEqual([deleteDefault.name, deleteDefault.status], ['DeleteConflictException', 409]);
    const twoVersions = await sdkFailure(iam.send(new DeletePolicyCommand({ PolicyArn: arn })));
    assert.deepEqual([twoVersions.name, twoVersions.status], ['DeleteConflictException', 409]);
    await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' }));
    assert.equal((await sdkFailure(iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' })))).status, 404);

    const local = (await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies!;
    assert.deepEqual(local.map((p) => p.Arn), [arn]);
    const aws = (await iam.send(new ListPoliciesCommand({ Scope: 'AWS', MaxItems: 1000 }))).Policies!.map((p) => p.Arn);
    for (const builtIn of ['arn:aws:iam::aws:policy/AdministratorAccess', SAGEMAKER_FULL, SAGEMAKER_READ]) assert.ok(aws.includes(builtIn), builtIn);
    assert.ok(!aws.includes(arn));
    // The admin's AdministratorAccess and the execution role's AmazonSageMakerFullAccess are attached from first start.
    const attached = (await iam.send(new ListPoliciesCommand({ OnlyAttached: true }))).Policies!.map((p) => p.Arn).sort();
    assert.deepEqual(attached, ['arn:aws:iam::aws:policy/AdministratorAccess', SAGEMAKER_FULL]);
    assert.deepEqual((await iam.send(new ListPoliciesCommand({ Scope: 'Local', PathPrefix: '/other/' }))).Policies, []);

    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    const gone = await sdkFailure(iam.send(new GetPolicyCommand({ PolicyArn: arn })));
    assert.deepEqual(gone, { name: 'NoSuchEntityException', status: 404, message: `Policy ${arn} does not exist or is not attachable.` });
  });

  it('attach, list attached and detach on users, groups and roles, AWS managed ARNs included; ListEntitiesForPolicy names them', async () => {
    const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'lister', PolicyDocument: LIST_ENDPOINTS }))).Policy!.Arn!;
    await iam.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: arn }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: SAGEMAKER_READ }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'trainers', PolicyArn: arn }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'trainers', PolicyArn: SAGEMAKER_FULL }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'deployer', PolicyArn: arn }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'deployer', PolicyArn: SAGEMAKER_FULL }));

    const byName = (policies: { PolicyName?: string; PolicyArn?: string }[] | undefined) => policies?.map((p) => `${p.PolicyName} ${p.PolicyArn}`).sort();
    assert.deepEqual(byName((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'alice' }))).AttachedPolicies), [
      `AmazonSageMakerReadOnly ${SAGEMAKER_READ}`,
      `lister ${arn}`,
    ]);
    assert.deepEqual(byName((await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'trainers' }))).AttachedPolicies), [
      `AmazonSageMakerFullAccess ${SAGEMAKER_FULL}`,
      `lister ${arn}`,
    ]);
    assert.deepEqual(byName((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'deployer' }))).AttachedPolicies), [
      `AmazonSageMakerFullAccess ${SAGEMAKER_FULL}`,
      `lister ${arn}`,
    ]);
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.AttachmentCount, 3);

    const entities = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn }));
    assert.deepEqual(entities.PolicyUsers?.map((u) => u.UserName), ['alice']);
    assert.match(entities.PolicyUsers![0]!.UserId!, /^AIDA/);
    assert.deepEqual(entities.PolicyGroups?.map((g) => g.GroupName), ['trainers']);
    assert.deepEqual(entities.PolicyRoles?.map((r) => r.RoleName), ['deployer']);
    const full = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: SAGEMAKER_FULL }));
    assert.deepEqual(full.PolicyRoles?.map((r) => r.RoleName).sort(), ['KennelExecutionRole', 'deployer']);

    const attachedPolicy = await sdkFailure(iam.send(new DeletePolicyCommand({ PolicyArn: arn })));
    assert.deepEqual([attachedPolicy.name, attachedPolicy.status], ['DeleteConflictException', 409]);
    const missing = await sdkFailure(iam.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/nothing` })));
    assert.deepEqual([missing.name, missing.status], ['NoSuchEntityException', 404]);
    const awsMissing = await sdkFailure(iam.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: 'arn:aws:iam::aws:policy/NoSuchManagedPolicy' })));
    assert.deepEqual([awsMissing.name, awsMissing.status], ['NoSuchEntityException', 404]);
    const noUser = await sdkFailure(iam.send(new AttachUserPolicyCommand({ UserName: 'nobody', PolicyArn: arn })));
    assert.deepEqual([noUser.name, noUser.status], ['NoSuchEntityException', 404]);
    const awsPolicyChange = await sdkFailure(iam.send(new CreatePolicyVersionCommand({ PolicyArn: SAGEMAKER_READ, PolicyDocument: LIST_ENDPOINTS })));
    assert.deepEqual([awsPolicyChange.name, awsPolicyChange.status], ['ValidationError', 400]);
    assert.match(awsPolicyChange.message, /is an AWS managed policy, which cannot be changed/);

    await iam.send(new DetachUserPolicyCommand({ UserName: 'alice', PolicyArn: arn }));
    await iam.send(new DetachUserPolicyCommand({ UserName: 'alice', PolicyArn: SAGEMAKER_READ }));
    await iam.send(new DetachGroupPolicyCommand({ GroupName: 'trainers', PolicyArn: arn }));
    await iam.send(new DetachGroupPolicyCommand({ GroupName: 'trainers', PolicyArn: SAGEMAKER_FULL }));
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'deployer', PolicyArn: arn }));
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'deployer', PolicyArn: SAGEMAKER_FULL }));
    assert.deepEqual((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'alice' }))).AttachedPolicies, []);
    assert.deepEqual((await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'trainers' }))).AttachedPolicies, []);
    assert.deepEqual((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'deployer' }))).AttachedPolicies, []);
    const notAttached = await sdkFailure(iam.send(new DetachRolePolicyCommand({ RoleName: 'deployer', PolicyArn: arn })));
    assert.deepEqual([notAttached.name, notAttached.status], ['NoSuchEntityException', 404]);
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
  });

  it('inline policies: put, get (URL-encoded, as AWS sends it), list, delete on users, groups and roles', async () => {
    const cases = [
      {
        put: () => iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'inline', PolicyDocument: LIST_ENDPOINTS })),
        get: () => iam.send(new GetUserPolicyCommand({ UserName: 'alice', PolicyName: 'inline' })),
        list: () => iam.send(new ListUserPoliciesCommand({ UserName: 'alice' })),
        remove: () => iam.send(new DeleteUserPolicyCommand({ UserName: 'alice', PolicyName: 'inline' })),
        owner: { UserName: 'alice' },
      },
      {
        put: () => iam.send(new PutGroupPolicyCommand({ GroupName: 'trainers', PolicyName: 'inline', PolicyDocument: LIST_ENDPOINTS })),
        get: () => iam.send(new GetGroupPolicyCommand({ GroupName: 'trainers', PolicyName: 'inline' })),
        list: () => iam.send(new ListGroupPoliciesCommand({ GroupName: 'trainers' })),
        remove: () => iam.send(new DeleteGroupPolicyCommand({ GroupName: 'trainers', PolicyName: 'inline' })),
        owner: { GroupName: 'trainers' },
      },
      {
        put: () => iam.send(new PutRolePolicyCommand({ RoleName: 'deployer', PolicyName: 'inline', PolicyDocument: LIST_ENDPOINTS })),
        get: () => iam.send(new GetRolePolicyCommand({ RoleName: 'deployer', PolicyName: 'inline' })),
        list: () => iam.send(new ListRolePoliciesCommand({ RoleName: 'deployer' })),
        remove: () => iam.send(new DeleteRolePolicyCommand({ RoleName: 'deployer', PolicyName: 'inline' })),
        owner: { RoleName: 'deployer' },
      },
    ];
    for (const { put, get, list, remove, owner } of cases) {
      await put();
      const got = await get();
      const [member, name] = Object.entries(owner)[0]!;
      assert.equal((got as unknown as Record<string, unknown>)[member], name);
      assert.equal(got.PolicyName, 'inline');
      assert.equal(got.PolicyDocument, encodeURIComponent(LIST_ENDPOINTS));
      assert.deepEqual(JSON.parse(decodeURIComponent(got.PolicyDocument!)), JSON.parse(LIST_ENDPOINTS));
      assert.deepEqual((await list()).PolicyNames, ['inline']);
      await remove();
      assert.deepEqual((await list()).PolicyNames, []);
      const gone = await sdkFailure(get());
      assert.deepEqual([gone.name, gone.status], ['NoSuchEntityException', 404], JSON.stringify(owner));
      assert.equal((await sdkFailure(remove())).name, 'NoSuchEntityException');
    }
  });

  it('a document that is not JSON, or names an action Kennel does not have, is MalformedPolicyDocument and is not stored', async () => {
    const notJson = await sdkFailure(iam.send(new CreatePolicyCommand({ PolicyName: 'broken', PolicyDocument: '{"Version": "2012-10-17", "Statement": [' })));
    assert.deepEqual([notJson.name, notJson.status], ['MalformedPolicyDocumentException', 400]);
    assert.match(notJson.message, /not valid JSON/);

    const typo = policy({ Effect: 'Allow', Action: 'sagemaker:DescribeEndpoints', Resource: '*' });
    const unknown = await sdkFailure(iam.send(new CreatePolicyCommand({ PolicyName: 'typo', PolicyDocument: typo })));
    assert.deepEqual(unknown, {
      name: 'MalformedPolicyDocumentException',
      status: 400,
      message: 'Statement 1 has Action sagemaker:DescribeEndpoints, which matches no action Kennel authorises, so it grants or denies nothing; did you mean sagemaker:DescribeEndpoint?',
    });
    // Refused, so there is nothing to attach.
    const attach = await sdkFailure(iam.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/typo` })));
    assert.equal(attach.name, 'NoSuchEntityException');
    const inline = await sdkFailure(iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'typo', PolicyDocument: typo })));
    assert.deepEqual([inline.name, inline.status], ['MalformedPolicyDocumentException', 400]);
    assert.deepEqual((await iam.send(new ListUserPoliciesCommand({ UserName: 'alice' }))).PolicyNames, []);
    const serviceTypo = await sdkFailure(iam.send(new PutRolePolicyCommand({ RoleName: 'deployer', PolicyName: 'p', PolicyDocument: policy({ Effect: 'Allow', Action: 'sagemakr:ListEndpoints', Resource: '*' }) })));
    assert.equal(serviceTypo.name, 'MalformedPolicyDocumentException');
    assert.match(serviceTypo.message, /did you mean sagemaker:ListEndpoints\?/);

    const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'good', PolicyDocument: LIST_ENDPOINTS }))).Policy!.Arn!;
    const badVersion = await sdkFailure(iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: typo, SetAsDefault: true })));
    assert.equal(badVersion.name, 'MalformedPolicyDocumentException');
    assert.deepEqual((await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions?.map((v) => v.VersionId), ['v1']);
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));

    // A service Kennel does not run is fine in a policy copied from AWS: it only has no effect here.
    await iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'from-aws', PolicyDocument: policy({ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' }) }));
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'alice', PolicyName: 'from-aws' }));
  });

  it('permission boundaries: set at creation or later, shown by GetUser and GetRole, removed', async () => {
    const boundary = { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: SAGEMAKER_READ };
    const created = await iam.send(new CreateUserCommand({ UserName: 'bounded', PermissionsBoundary: SAGEMAKER_READ }));
    assert.deepEqual(created.User?.PermissionsBoundary, boundary);
    assert.deepEqual((await iam.send(new GetUserCommand({ UserName: 'bounded' }))).User?.PermissionsBoundary, boundary);
    await iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: 'bounded' }));
    assert.equal((await iam.send(new GetUserCommand({ UserName: 'bounded' }))).User?.PermissionsBoundary, undefined);
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'alice', PermissionsBoundary: SAGEMAKER_FULL }));
    assert.equal((await iam.send(new GetUserCommand({ UserName: 'alice' }))).User?.PermissionsBoundary?.PermissionsBoundaryArn, SAGEMAKER_FULL);
    await iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: 'alice' }));

    await iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: 'deployer', PermissionsBoundary: SAGEMAKER_READ }));
    assert.deepEqual((await iam.send(new GetRoleCommand({ RoleName: 'deployer' }))).Role?.PermissionsBoundary, boundary);
    await iam.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: 'deployer' }));
    assert.equal((await iam.send(new GetRoleCommand({ RoleName: 'deployer' }))).Role?.PermissionsBoundary, undefined);

    const missing = await sdkFailure(iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'alice', PermissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/none` })));
    assert.deepEqual([missing.name, missing.status], ['NoSuchEntityException', 404]);
  });
});
