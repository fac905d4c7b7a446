import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddUserToGroupCommand,
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteGroupCommand,
  DeleteRoleCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetGroupCommand,
  GetRoleCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListGroupsCommand,
  ListGroupsForUserCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  TagRoleCommand,
  TagUserCommand,
  UntagRoleCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { TestKennel } from '../../testing/test-kennel.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';
import { AwsClientPool, policy, closeKennelWithClients, startKennelWithClients } from '../../testing/aws-clients.ts';

/**
 * IAM's users, groups, roles and access keys through @aws-sdk/client-iam
 * against a real Kennel, signed with the admin's key from first start: the
 * shapes AWS answers with, and its error codes and statuses.
 */
const ACCOUNT = '000000000000';
const TRUST_ALICE = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/team/alice` }, Action: 'sts:AssumeRole' });

describe('IAM identities through @aws-sdk/client-iam', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let iam: IAMClient;

  before(async () => {
    ({ test, pool, iam } = await startKennelWithClients());
  });
  after(() => closeKennelWithClients(test, pool));

  it('users: create with a path and tags, get, list by path and by page, tag, untag, delete', async () => {
    const created = await iam.send(new CreateUserCommand({ UserName: 'alice', Path: '/team/', Tags: [{ Key: 'team', Value: 'dogs' }] }));
    const user = created.User!;
    assert.equal(user.UserName, 'alice');
    assert.equal(user.Path, '/team/');
    assert.equal(user.Arn, `arn:aws:iam::${ACCOUNT}:user/team/alice`);
    assert.match(user.UserId!, /^AIDA[A-Z0-9]{17}$/);
    assert.ok(user.CreateDate instanceof Date);
    assert.deepEqual(user.Tags, [{ Key: 'team', Value: 'dogs' }]);

    const got = await iam.send(new GetUserCommand({ UserName: 'alice' }));
    assert.deepEqual(got.User, user);
    // Without UserName, GetUser describes the caller.
    assert.equal((await iam.send(new GetUserCommand({}))).User?.Arn, `arn:aws:iam::${ACCOUNT}:user/admin`);

    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    const all = await iam.send(new ListUsersCommand({}));
    assert.deepEqual(all.Users?.map((u) => u.UserName).sort(), ['admin', 'alice', 'bob']);
    assert.equal(all.IsTruncated, false);
    // ListUsers leaves tags out, as AWS does.
    assert.equal(all.Users?.find((u) => u.UserName === 'alice')?.Tags, undefined);
    const team = await iam.send(new ListUsersCommand({ PathPrefix: '/team/' }));
    assert.deepEqual(team.Users?.map((u) => u.UserName), ['alice']);

    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await iam.send(new ListUsersCommand({ MaxItems: 2, Marker: marker }));
      assert.ok(page.Users!.length <= 2);
      names.push(...page.Users!.map((u) => u.UserName!));
      assert.equal(page.IsTruncated, page.Marker !== undefined);
      marker = page.Marker;
    } while (marker);
    assert.deepEqual(names.sort(), ['admin', 'alice', 'bob']);

    await iam.send(new TagUserCommand({ UserName: 'alice', Tags: [{ Key: 'team', Value: 'cats' }, { Key: 'cost-centre', Value: '42' }] }));
    const tags = await iam.send(new ListUserTagsCommand({ UserName: 'alice' }));
    assert.deepEqual(
      tags.Tags?.map((tag) => `${tag.Key}=${tag.Value}`).sort(),
      ['cost-centre=42', 'team=cats'],
      'a tag with an existing key replaces its value',
    );
    assert.equal(tags.IsTruncated, false);
    await iam.send(new UntagUserCommand({ UserName: 'alice', TagKeys: ['team'] }));
    assert.deepEqual((await iam.send(new ListUserTagsCommand({ UserName: 'alice' }))).Tags, [{ Key: 'cost-centre', Value: '42' }]);

    await iam.send(new DeleteUserCommand({ UserName: 'bob' }));
    const gone = await sdkFailure(iam.send(new GetUserCommand({ UserName: 'bob' })));
    assert.deepEqual(gone, { name: 'NoSuchEntityException', status: 404, message: 'The user with name bob cannot be found.' });
  });

  it('groups: create, add and remove members, get with its users, list, list groups for a user, delete', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'carol' }));
    const { Group } = await iam.send(new CreateGroupCommand({ GroupName: 'trainers', Path: '/ml/' }));
    assert.equal(Group?.Arn, `arn:aws:iam::${ACCOUNT}:group/ml/trainers`);
    assert.match(Group!.GroupId!, /^AGPA[A-Z0-9]{17}$/);
    assert.ok(Group?.CreateDate instanceof Date);
    await iam.send(new CreateGroupCommand({ GroupName: 'readers' }));

    await iam.send(new AddUserToGroupCommand({ GroupName: 'trainers', UserName: 'carol' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'readers', UserName: 'carol' }));
    const got = await iam.send(new GetGroupCommand({ GroupName: 'trainers' }));
    assert.equal(got.Group?.GroupName, 'trainers');
    assert.deepEqual(got.Users?.map((u) => u.UserName), ['carol']);
    assert.equal(got.IsTruncated, false);
    assert.deepEqual((await iam.send(new ListGroupsCommand({}))).Groups?.map((g) => g.GroupName).sort(), ['readers', 'trainers']);
    assert.deepEqual((await iam.send(new ListGroupsCommand({ PathPrefix: '/ml/' }))).Groups?.map((g) => g.GroupName), ['trainers']);
    assert.deepEqual((await iam.send(new ListGroupsForUserCommand({ UserName: 'carol' }))).Groups?.map((g) => g.GroupName).sort(), ['readers', 'trainers']);

    const occupied = await sdkFailure(iam.send(new DeleteGroupCommand({ GroupName: 'trainers' })));
    assert.deepEqual([occupied.name, occupied.status], ['DeleteConflictException', 409]);
    const member = await sdkFailure(iam.send(new DeleteUserCommand({ UserName: 'carol' })));
    assert.equal(member.name, 'DeleteConflictException');
    assert.match(member.message, /membership of 2 group\(s\)/);

    await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'trainers', UserName: 'carol' }));
    assert.deepEqual((await iam.send(new ListGroupsForUserCommand({ UserName: 'carol' }))).Groups?.map((g) => g.GroupName), ['readers']);
    const notMember = await sdkFailure(iam.send(new RemoveUserFromGroupCommand({ GroupName: 'trainers', UserName: 'carol' })));
    assert.deepEqual([notMember.name, notMember.status], ['NoSuchEntityException', 404]);
    await iam.send(new DeleteGroupCommand({ GroupName: 'trainers' }));
    const gone = await sdkFailure(iam.send(new GetGroupCommand({ GroupName: 'trainers' })));
    assert.deepEqual(gone, { name: 'NoSuchEntityException', status: 404, message: 'The group with name trainers cannot be found.' });
  });

  it('roles: create with a trust policy, get it back URL-encoded, list, update the trust policy, tag, untag, delete', async () => {
    const { Role } = await iam.send(
      new CreateRoleCommand({
        RoleName: 'reader',
        AssumeRolePolicyDocument: TRUST_ALICE,
        Description: 'reads endpoints',
        MaxSessionDuration: 7200,
        Tags: [{ Key: 'project', Value: 'kennel' }],
      }),
    );
    assert.equal(Role?.Arn, `arn:aws:iam::${ACCOUNT}:role/reader`);
    assert.match(Role!.RoleId!, /^AROA[A-Z0-9]{17}$/);
    assert.equal(Role?.MaxSessionDuration, 7200);
    assert.equal(Role?.Description, 'reads endpoints');
    // AWS sends policy documents URL-encoded; the JavaScript SDK hands them on as they came.
    assert.notEqual(Role?.AssumeRolePolicyDocument, TRUST_ALICE);
    assert.equal(decodeURIComponent(Role!.AssumeRolePolicyDocument!), TRUST_ALICE);

    const got = await iam.send(new GetRoleCommand({ RoleName: 'reader' }));
    assert.equal(decodeURIComponent(got.Role!.AssumeRolePolicyDocument!), TRUST_ALICE);
    assert.deepEqual(got.Role?.Tags, [{ Key: 'project', Value: 'kennel' }]);
    const listed = await iam.send(new ListRolesCommand({}));
    // First start made the role Kennel passes to jobs; this test made the other.
    assert.deepEqual(listed.Roles?.map((r) => r.RoleName).sort(), ['KennelExecutionRole', 'reader']);

    const trustAnyone = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'reader', PolicyDocument: trustAnyone }));
    assert.equal(decodeURIComponent((await iam.send(new GetRoleCommand({ RoleName: 'reader' }))).Role!.AssumeRolePolicyDocument!), trustAnyone);
    const badTrust = await sdkFailure(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'reader', PolicyDocument: '{"Version":"2012-10-17"' })));
    assert.deepEqual([badTrust.name, badTrust.status], ['MalformedPolicyDocumentException', 400]);
    // A trust policy may only name sts actions, as AWS insists; what the role may do goes in its permissions policies.
    const notSts = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['sts:AssumeRole', 'sagemaker:ListEndpoints'] });
    const updateNotSts = await sdkFailure(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'reader', PolicyDocument: notSts })));
    assert.deepEqual([updateNotSts.name, updateNotSts.status], ['MalformedPolicyDocumentException', 400]);
    assert.match(updateNotSts.message, /names sagemaker:ListEndpoints in a role's trust policy, which may only name sts actions/);
    assert.equal(decodeURIComponent((await iam.send(new GetRoleCommand({ RoleName: 'reader' }))).Role!.AssumeRolePolicyDocument!), trustAnyone);
    const createNotSts = await sdkFailure(iam.send(new CreateRoleCommand({ RoleName: 'not-sts', AssumeRolePolicyDocument: notSts })));
    assert.equal(createNotSts.name, 'MalformedPolicyDocumentException');
    assert.equal((await sdkFailure(iam.send(new GetRoleCommand({ RoleName: 'not-sts' })))).name, 'NoSuchEntityException');

    await iam.send(new TagRoleCommand({ RoleName: 'reader', Tags: [{ Key: 'owner', Value: 'ml-team' }] }));
    await iam.send(new UntagRoleCommand({ RoleName: 'reader', TagKeys: ['project'] }));
    assert.deepEqual((await iam.send(new ListRoleTagsCommand({ RoleName: 'reader' }))).Tags, [{ Key: 'owner', Value: 'ml-team' }]);

    await iam.send(new AttachRolePolicyCommand({ RoleName: 'reader', PolicyArn: 'arn:aws:iam::aws:policy/AmazonSageMakerReadOnly' }));
    const attached = await sdkFailure(iam.send(new DeleteRoleCommand({ RoleName: 'reader' })));
    assert.deepEqual([attached.name, attached.status], ['DeleteConflictException', 409]);
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'reader', PolicyArn: 'arn:aws:iam::aws:policy/AmazonSageMakerReadOnly' }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'reader' }));
    const gone = await sdkFailure(iam.send(new GetRoleCommand({ RoleName: 'reader' })));
    assert.deepEqual(gone, { name: 'NoSuchEntityException', status: 404, message: 'The role with name reader cannot be found.' });
  });

  it('access keys: create, list, deactivate and reactivate, last used, delete; a third key is over the quota', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'dave' }));
    const first = (await iam.send(new CreateAccessKeyCommand({ UserName: 'dave' }))).AccessKey!;
    assert.match(first.AccessKeyId!, /^AKIA[A-Z0-9]{16}$/);
    assert.equal(first.SecretAccessKey!.length, 40);
    assert.equal(first.Status, 'Active');
    assert.equal(first.UserName, 'dave');
    const second = (await iam.send(new CreateAccessKeyCommand({ UserName: 'dave' }))).AccessKey!;
    const third = await sdkFailure(iam.send(new CreateAccessKeyCommand({ UserName: 'dave' })));
    assert.deepEqual(third, { name: 'LimitExceededException', status: 409, message: 'Cannot exceed quota for AccessKeysPerUser: 2' });

    const listed = await iam.send(new ListAccessKeysCommand({ UserName: 'dave' }));
    assert.deepEqual(listed.AccessKeyMetadata?.map((key) => key.AccessKeyId).sort(), [first.AccessKeyId, second.AccessKeyId].sort());
    assert.ok(listed.AccessKeyMetadata!.every((key) => key.Status === 'Active' && key.CreateDate instanceof Date && !('SecretAccessKey' in key)));

    const unused = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: first.AccessKeyId }));
    assert.equal(unused.UserName, 'dave');
    assert.deepEqual(unused.AccessKeyLastUsed, { ServiceName: 'N/A', Region: 'N/A' });
    const dave = pool.for({ accessKeyId: first.AccessKeyId!, secretAccessKey: first.SecretAccessKey! });
    assert.equal((await dave.sts.send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::${ACCOUNT}:user/dave`);
    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: first.AccessKeyId }));
    assert.equal(used.AccessKeyLastUsed?.ServiceName, 'sts');
    assert.equal(used.AccessKeyLastUsed?.Region, 'us-east-1');
    assert.ok(used.AccessKeyLastUsed?.LastUsedDate instanceof Date);

    await iam.send(new UpdateAccessKeyCommand({ UserName: 'dave', AccessKeyId: first.AccessKeyId, Status: 'Inactive' }));
    const statuses = (await iam.send(new ListAccessKeysCommand({ UserName: 'dave' }))).AccessKeyMetadata!;
    assert.equal(statuses.find((key) => key.AccessKeyId === first.AccessKeyId)?.Status, 'Inactive');
    const refused = await sdkFailure(dave.sts.send(new GetCallerIdentityCommand({})));
    assert.deepEqual([refused.name, refused.status], ['InvalidClientTokenId', 403]);
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'dave', AccessKeyId: first.AccessKeyId, Status: 'Active' }));
    assert.equal((await dave.sts.send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::${ACCOUNT}:user/dave`);

    const keysLeft = await sdkFailure(iam.send(new DeleteUserCommand({ UserName: 'dave' })));
    assert.deepEqual([keysLeft.name, keysLeft.status], ['DeleteConflictException', 409]);
    assert.match(keysLeft.message, /must remove 2 access key\(s\)/);
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'dave', AccessKeyId: first.AccessKeyId }));
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'dave', AccessKeyId: second.AccessKeyId }));
    assert.deepEqual((await iam.send(new ListAccessKeysCommand({ UserName: 'dave' }))).AccessKeyMetadata, []);
    const deletedKey = await sdkFailure(iam.send(new DeleteAccessKeyCommand({ UserName: 'dave', AccessKeyId: first.AccessKeyId })));
    assert.deepEqual([deletedKey.name, deletedKey.status], ['NoSuchEntityException', 404]);
    await iam.send(new DeleteUserCommand({ UserName: 'dave' }));
  });

  it('names clash regardless of case, and a user with policies cannot be deleted', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'Erin' }));
    for (const name of ['Erin', 'erin', 'ERIN']) {
      const clash = await sdkFailure(iam.send(new CreateUserCommand({ UserName: name })));
      assert.deepEqual(clash, { name: 'EntityAlreadyExistsException', status: 409, message: `User with name ${name} already exists.` });
    }
    await iam.send(new CreateGroupCommand({ GroupName: 'Ops' }));
    const group = await sdkFailure(iam.send(new CreateGroupCommand({ GroupName: 'ops' })));
    assert.deepEqual([group.name, group.status], ['EntityAlreadyExistsException', 409]);
    await iam.send(new CreateRoleCommand({ RoleName: 'Deployer', AssumeRolePolicyDocument: TRUST_ALICE }));
    const role = await sdkFailure(iam.send(new CreateRoleCommand({ RoleName: 'deployer', AssumeRolePolicyDocument: TRUST_ALICE })));
    assert.deepEqual([role.name, role.status], ['EntityAlreadyExistsException', 409]);

    await iam.send(new PutUserPolicyCommand({ UserName: 'Erin', PolicyName: 'list', PolicyDocument: policy({ Effect: 'Allow', Action: 'sagemaker:ListEndpoints', Resource: '*' }) }));
    const withPolicy = await sdkFailure(iam.send(new DeleteUserCommand({ UserName: 'Erin' })));
    assert.deepEqual(withPolicy, {
      name: 'DeleteConflictException',
      status: 409,
      message: 'Cannot delete entity, must remove 1 inline policy(ies) of user Erin first.',
    });
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'Erin', PolicyName: 'list' }));
    await iam.send(new DeleteUserCommand({ UserName: 'Erin' }));
  });

  it('inputs outside the model are ValidationError 400, naming the member', async () => {
    const badName = await sdkFailure(iam.send(new CreateUserCommand({ UserName: 'no spaces!' })));
    assert.deepEqual([badName.name, badName.status], ['ValidationError', 400]);
    assert.match(badName.message, /Value 'no spaces!' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern/);
    const longName = await sdkFailure(iam.send(new CreateUserCommand({ UserName: 'u'.repeat(65) })));
    assert.deepEqual([longName.name, longName.status], ['ValidationError', 400]);
    assert.match(longName.message, /Member must have length less than or equal to 64/);
    const session = await sdkFailure(iam.send(new CreateRoleCommand({ RoleName: 'short', AssumeRolePolicyDocument: TRUST_ALICE, MaxSessionDuration: 60 })));
    assert.deepEqual([session.name, session.status], ['ValidationError', 400]);
    assert.match(session.message, /'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600/);
    const path = await sdkFailure(iam.send(new CreateUserCommand({ UserName: 'pathless', Path: 'no-slashes' })));
    assert.deepEqual([path.name, path.status], ['ValidationError', 400]);
    const page = await sdkFailure(iam.send(new ListUsersCommand({ MaxItems: 1001 })));
    assert.deepEqual([page.name, page.status], ['ValidationError', 400]);
    // Nothing was created by the refused calls.
    assert.equal((await sdkFailure(iam.send(new GetRoleCommand({ RoleName: 'short' })))).name, 'NoSuchEntityException');
    assert.equal((await sdkFailure(iam.send(new GetUserCommand({ UserName: 'pathless' })))).name, 'NoSuchEntityException');
  });
});
