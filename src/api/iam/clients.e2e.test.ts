import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';
import { awsToolEnv, requireDebianTool } from '../../testing/aws-tools.ts';
import type { TestCredentials } from '../../testing/iam-fixtures.ts';

/**
 * IAM and STS with the clients users have besides the JavaScript SDK: Debian's
 * boto3 (boto3-iam.fixture.py) and AWS CLI, each setting up a user and a role
 * that trusts it, assuming the role with the user's key and calling SageMaker
 * with the temporary credentials, against a real Kennel. Both clients come
 * from apt (.ci/run installs them); a machine without them fails here, loudly.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const AWS = '/usr/bin/aws';
const ACCOUNT = '000000000000';
const READ_ONLY = 'arn:aws:iam::aws:policy/AmazonSageMakerReadOnly';
const ENDPOINT_X = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/x`;

describe('IAM and STS through boto3 and the AWS CLI', { timeout: 180_000 }, () => {
  let test: TestKennel;

  before(async () => {
    requireDebianTool(PYTHON, 'python3-boto3');
    requireDebianTool(AWS, 'awscli');
    test = await startTestKennel();
  });
  after(async () => test?.close());

  it('boto3: a user assumes a role that trusts it, and SageMaker allows and denies what the role’s policy says', async () => {
    const { stdout } = await run(PYTHON, [join(root, 'src/api/iam/boto3-iam.fixture.py')], { cwd: root, env: awsToolEnv(test), encoding: 'utf8', timeout: 120_000 });
    const found = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, any>;
    assert.match(String(found.botocore_path), /^\/usr\/lib\/python3\/dist-packages\//, "Debian's botocore");
    assert.equal(found.admin, `arn:aws:iam::${ACCOUNT}:user/admin`);
    assert.equal(found.user_arn, `arn:aws:iam::${ACCOUNT}:user/boto3-user`);
    // botocore decodes URL-encoded policy documents into objects.
    assert.deepEqual(found.role_trust, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/boto3-user` }, Action: 'sts:AssumeRole' }],
    });
    assert.deepEqual(found.user_policy, { Version: '2012-10-17', Statement: [{ Sid: 'Note', Effect: 'Allow', Action: 'sagemaker:ListModels', Resource: '*' }] });
    assert.deepEqual(found.role_policies, [READ_ONLY]);

    assert.equal(found.user_caller, `arn:aws:iam::${ACCOUNT}:user/boto3-user`);
    assert.equal(found.user_lists_endpoints.code, 'AccessDeniedException', 'the user itself may only list models');
    const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/boto3-reader/boto3-session`;
    assert.equal(found.assumed_arn, sessionArn);
    assert.equal(found.role_caller, sessionArn);
    assert.equal(found.expiration_is_datetime, true);
    assert.deepEqual([found.too_long.code, found.too_long.status], ['ValidationError', 400]);

    assert.deepEqual(found.role_endpoints, []);
    assert.deepEqual(found.role_delete_endpoint, {
      code: 'AccessDeniedException',
      status: 400,
      message: `User: ${sessionArn} is not authorized to perform: sagemaker:DeleteEndpoint on resource: ${ENDPOINT_X} because no identity-based policy allows the sagemaker:DeleteEndpoint action`,
    });
    assert.deepEqual([found.role_create_user.code, found.role_create_user.status], ['AccessDenied', 403]);

    assert.deepEqual(found.simulated, { 'sagemaker:ListEndpoints': 'allowed', 'sagemaker:DeleteEndpoint': 'implicitDeny' });
    assert.deepEqual(found.users, ['admin', 'boto3-user']);
    assert.deepEqual(found.no_such_user, { code: 'NoSuchEntity', status: 404, message: 'The user with name ghost cannot be found.' });
    assert.deepEqual([found.duplicate_user.code, found.duplicate_user.status], ['EntityAlreadyExists', 409]);
    assert.deepEqual([found.delete_conflict.code, found.delete_conflict.status], ['DeleteConflict', 409]);
  });

  it('the AWS CLI: the same set-up with aws iam and aws sts, then aws sagemaker with the role’s credentials', async () => {
    // Credentials for a call: the admin's profile, or keys in the environment and no profile at all.
    const envFor = (credentials?: TestCredentials): NodeJS.ProcessEnv => {
      if (!credentials) return awsToolEnv(test);
      const { AWS_PROFILE: _profile, ...env } = awsToolEnv(test, {
        AWS_SHARED_CREDENTIALS_FILE: join(test.home, 'no-credentials'),
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
      });
      return env;
    };
    const aws = (credentials: TestCredentials | undefined, ...args: string[]) =>
      run(AWS, ['--endpoint-url', test.url, '--output', 'json', ...args], { env: envFor(credentials), encoding: 'utf8', timeout: 60_000 }).then(
        ({ stdout }) => ({ code: 0, json: stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, any>), stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, json: {} as Record<string, any>, stderr: error.stderr }),
      );
    const ok = async (credentials: TestCredentials | undefined, ...args: string[]) => {
      const result = await aws(credentials, ...args);
      assert.equal(result.code, 0, `aws ${args.join(' ')}: ${result.stderr}`);
      return result.json;
    };

    assert.equal((await ok(undefined, 'sts', 'get-caller-identity')).Arn, `arn:aws:iam::${ACCOUNT}:user/admin`);
    const user = (await ok(undefined, 'iam', 'create-user', '--user-name', 'cli-user')).User;
    assert.equal(user.Arn, `arn:aws:iam::${ACCOUNT}:user/cli-user`);
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: user.Arn }, Action: 'sts:AssumeRole' }] };
    const role = (await ok(undefined, 'iam', 'create-role', '--role-name', 'cli-reader', '--assume-role-policy-document', JSON.stringify(trust))).Role;
    assert.deepEqual(role.AssumeRolePolicyDocument, trust, 'the CLI prints the decoded document');
    await ok(undefined, 'iam', 'attach-role-policy', '--role-name', 'cli-reader', '--policy-arn', READ_ONLY);
    const note = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sagemaker:ListModels', Resource: '*' }] };
    await ok(undefined, 'iam', 'put-user-policy', '--user-name', 'cli-user', '--policy-name', 'note', '--policy-document', JSON.stringify(note));
    assert.deepEqual((await ok(undefined, 'iam', 'get-user-policy', '--user-name', 'cli-user', '--policy-name', 'note')).PolicyDocument, note);
    const key = (await ok(undefined, 'iam', 'create-access-key', '--user-name', 'cli-user')).AccessKey;
    const userKey = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };

    assert.equal((await ok(userKey, 'sts', 'get-caller-identity')).Arn, user.Arn);
    const assumed = await ok(userKey, 'sts', 'assume-role', '--role-arn', role.Arn, '--role-session-name', 'cli-session', '--duration-seconds', '900');
    const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/cli-reader/cli-session`;
    assert.equal(assumed.AssumedRoleUser.Arn, sessionArn);
    assert.ok(!Number.isNaN(Date.parse(assumed.Credentials.Expiration)));
    const roleCredentials = { accessKeyId: assumed.Credentials.AccessKeyId, secretAccessKey: assumed.Credentials.SecretAccessKey, sessionToken: assumed.Credentials.SessionToken };

    assert.equal((await ok(roleCredentials, 'sts', 'get-caller-identity')).Arn, sessionArn);
    assert.deepEqual(await ok(roleCredentials, 'sagemaker', 'list-endpoints'), { Endpoints: [] });
    const denied = await aws(roleCredentials, 'sagemaker', 'delete-endpoint', '--endpoint-name', 'x');
    assert.equal(denied.code, 254);
    assert.match(
      denied.stderr,
      new RegExp(`An error occurred \\(AccessDeniedException\\) when calling the DeleteEndpoint operation: User: ${sessionArn} is not authorized to perform: sagemaker:DeleteEndpoint on resource: ${ENDPOINT_X}`),
    );
    const noUsers = await aws(roleCredentials, 'iam', 'list-users');
    assert.match(noUsers.stderr, /\(AccessDenied\) when calling the ListUsers operation: User: arn:aws:sts::000000000000:assumed-role\/cli-reader\/cli-session is not authorized to perform: iam:ListUsers/);

    const users = await ok(undefined, 'iam', 'list-users');
    const names = users.Users.map((u: { UserName: string }) => u.UserName);
    assert.ok(names.includes('admin') && names.includes('cli-user'), names.join(', '));
    const simulated = await ok(undefined, 'iam', 'simulate-principal-policy', '--policy-source-arn', role.Arn, '--action-names', 'sagemaker:ListEndpoints', 'sagemaker:DeleteEndpoint');
    assert.deepEqual(
      simulated.EvaluationResults.map((r: { EvalActionName: string; EvalDecision: string }) => `${r.EvalActionName} ${r.EvalDecision}`),
      ['sagemaker:ListEndpoints allowed', 'sagemaker:DeleteEndpoint implicitDeny'],
    );
    const ghost = await aws(undefined, 'iam', 'get-user', '--user-name', 'ghost');
    assert.equal(ghost.code, 254);
    assert.match(ghost.stderr, /An error occurred \(NoSuchEntity\) when calling the GetUser operation: The user with name ghost cannot be found\./);
    const wrongSecret = await aws({ ...userKey, secretAccessKey: 'wrong' }, 'sts', 'get-caller-identity');
    assert.match(wrongSecret.stderr, /\(SignatureDoesNotMatch\) when calling the GetCallerIdentity operation/);
  });
});
