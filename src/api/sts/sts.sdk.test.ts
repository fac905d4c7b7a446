import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateRoleCommand, PutRolePolicyCommand, PutUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { DeleteModelCommand, ListEndpointsCommand, ListModelsCommand } from '@aws-sdk/client-sagemaker';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import type { TestKennel } from '../../testing/test-kennel.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';
import { AwsClientPool, createUserWithKey, policy, sessionCredentials, type AwsClients, closeKennelWithClients, startKennelWithClients } from '../../testing/aws-clients.ts';

/**
 * STS through @aws-sdk/client-sts against a real Kennel: who the caller is,
 * AssumeRole's session lengths and session tags, GetSessionToken, and their
 * error codes.
 */
const ACCOUNT = '000000000000';
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const userArn = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;

describe('STS through @aws-sdk/client-sts', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let admin: AwsClients;
  let iam: IAMClient;
  let pat: AwsClients;

  before(async () => {
    ({ test, pool, iam } = await startKennelWithClients());
    admin = pool.for(test.credentials);
    pat = pool.for(await createUserWithKey(iam, 'pat'));
    const trustPat = policy({ Effect: 'Allow', Principal: { AWS: userArn('pat') }, Action: 'sts:AssumeRole' });
    await iam.send(new CreateRoleCommand({ RoleName: 'short', AssumeRolePolicyDocument: trustPat }));
    await iam.send(new CreateRoleCommand({ RoleName: 'long', AssumeRolePolicyDocument: trustPat, MaxSessionDuration: 7200 }));
  });
  after(() => closeKennelWithClients(test, pool));

  it('GetCallerIdentity names the admin, a user and a role session', async () => {
    const adminIdentity = await admin.sts.send(new GetCallerIdentityCommand({}));
    assert.equal(adminIdentity.Arn, userArn('admin'));
    assert.equal(adminIdentity.Account, ACCOUNT);
    assert.match(adminIdentity.UserId!, /^AIDA[A-Z0-9]{17}$/);

    const patIdentity = await pat.sts.send(new GetCallerIdentityCommand({}));
    assert.equal(patIdentity.Arn, userArn('pat'));
    assert.notEqual(patIdentity.UserId, adminIdentity.UserId);

    const assumed = await pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('short'), RoleSessionName: 'who-am-i' }));
    const session = pool.for(sessionCredentials(assumed.Credentials));
    const sessionIdentity = await session.sts.send(new GetCallerIdentityCommand({}));
    assert.equal(sessionIdentity.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/short/who-am-i`);
    assert.equal(sessionIdentity.Account, ACCOUNT);
    // aws:userid of a role session: the role's id and the session name.
    assert.match(sessionIdentity.UserId!, /^AROA[A-Z0-9]{17}:who-am-i$/);
    assert.equal(sessionIdentity.UserId, assumed.AssumedRoleUser?.AssumedRoleId);
  });

  it('AssumeRole: sessions last DurationSeconds, from 900 up to the role’s MaxSessionDuration, and Expiration says when they end', async () => {
    const assumeFor = async (role: string, DurationSeconds?: number) => {
      const before = Date.now();
      const result = await pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn(role), RoleSessionName: 'timed', DurationSeconds }));
      const after = Date.now();
      const expiration = result.Credentials!.Expiration!;
      assert.ok(expiration instanceof Date);
      const seconds = DurationSeconds ?? 3600;
      // STS expiries are whole seconds from the moment it issued the credentials.
      assert.equal(expiration.getTime() % 1000, 0);
      assert.ok(expiration.getTime() >= Math.floor(before / 1000) * 1000 + seconds * 1000, `${expiration.toISOString()} for ${seconds}s`);
      assert.ok(expiration.getTime() <= after + seconds * 1000, `${expiration.toISOString()} for ${seconds}s`);
      return result;
    };
    await assumeFor('short');
    await assumeFor('short', 900);
    await assumeFor('short', 3600);
    await assumeFor('long', 7200);

    const tooShort = await sdkFailure(pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('short'), RoleSessionName: 'timed', DurationSeconds: 899 })));
    assert.deepEqual([tooShort.name, tooShort.status], ['ValidationError', 400]);
    assert.match(tooShort.message, /'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900/);
    const overRole = await sdkFailure(pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('short'), RoleSessionName: 'timed', DurationSeconds: 3601 })));
    assert.deepEqual(overRole, {
      name: 'ValidationError',
      status: 400,
      message: 'The requested DurationSeconds 3601 is outside the range 900–3600 seconds this session allows.',
    });
    const overLong = await sdkFailure(pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('long'), RoleSessionName: 'timed', DurationSeconds: 7201 })));
    assert.deepEqual([overLong.name, overLong.status], ['ValidationError', 400]);

    // A role session that assumes a role (role chaining) gets an hour at most, whatever the role allows.
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'chained',
        MaxSessionDuration: 7200,
        AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: roleArn('long') }, Action: 'sts:AssumeRole' }),
      }),
    );
    const first = pool.for(sessionCredentials((await assumeFor('long', 7200)).Credentials));
    const chained = await sdkFailure(first.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('chained'), RoleSessionName: 'hop', DurationSeconds: 7200 })));
    assert.deepEqual([chained.name, chained.status], ['ValidationError', 400]);
    const hop = await first.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('chained'), RoleSessionName: 'hop', DurationSeconds: 3600 }));
    assert.equal(hop.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/chained/hop`);

    const missing = await sdkFailure(pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('no-such-role'), RoleSessionName: 'timed' })));
    assert.deepEqual([missing.name, missing.status], ['AccessDenied', 403]);
    assert.match(missing.message, /is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role\/no-such-role/);
  });

  it('session tags need sts:TagSession in the trust policy, and then are the session’s principal tags', async () => {
    const untaggable = policy({ Effect: 'Allow', Principal: { AWS: userArn('pat') }, Action: 'sts:AssumeRole' });
    const taggable = policy({ Effect: 'Allow', Principal: { AWS: userArn('pat') }, Action: ['sts:AssumeRole', 'sts:TagSession'] });
    // The role lists models only for sessions tagged team=ml.
    const byTeam = policy(
      { Effect: 'Allow', Action: 'sagemaker:ListEndpoints', Resource: '*' },
      { Effect: 'Allow', Action: 'sagemaker:ListModels', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'ml' } } },
    );
    for (const [name, trust] of [['untaggable', untaggable], ['taggable', taggable]] as const) {
      await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
      await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'by-team', PolicyDocument: byTeam }));
    }
    const tags = [{ Key: 'team', Value: 'ml' }];

    const refused = await sdkFailure(pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('untaggable'), RoleSessionName: 'tagged', Tags: tags })));
    assert.deepEqual([refused.name, refused.status], ['AccessDenied', 403]);
    assert.match(refused.message, /is not authorized to perform: sts:TagSession on resource: arn:aws:iam::000000000000:role\/untaggable/);
    // Without tags the same role is assumed.
    await pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('untaggable'), RoleSessionName: 'plain' }));

    const tagged = pool.for(sessionCredentials((await pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('taggable'), RoleSessionName: 'tagged', Tags: tags }))).Credentials));
    assert.deepEqual((await tagged.sagemaker.send(new ListModelsCommand({}))).Models, []);
    const other = pool.for(
      sessionCredentials((await pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('taggable'), RoleSessionName: 'other', Tags: [{ Key: 'team', Value: 'web' }] }))).Credentials),
    );
    assert.deepEqual((await other.sagemaker.send(new ListEndpointsCommand({}))).Endpoints, []);
    const otherModels = await sdkFailure(other.sagemaker.send(new ListModelsCommand({})));
    assert.equal(otherModels.name, 'AccessDeniedException');
    assert.match(otherModels.message, /^User: arn:aws:sts::000000000000:assumed-role\/taggable\/other is not authorized to perform: sagemaker:ListModels on resource: \*/);
  });

  it('a session policy passed to AssumeRole narrows what the role allows', async () => {
    await iam.send(new PutRolePolicyCommand({ RoleName: 'short', PolicyName: 'list', PolicyDocument: policy({ Effect: 'Allow', Action: 'sagemaker:List*', Resource: '*' }) }));
    const narrowed = pool.for(
      sessionCredentials(
        (
          await pat.sts.send(
            new AssumeRoleCommand({
              RoleArn: roleArn('short'),
              RoleSessionName: 'narrowed',
              // Models only; the DeleteModel it also names is beyond the role's own policy, so stays denied.
              Policy: policy({ Effect: 'Allow', Action: ['sagemaker:ListModels', 'sagemaker:DeleteModel'], Resource: '*' }),
            }),
          )
        ).Credentials,
      ),
    );
    assert.deepEqual((await narrowed.sagemaker.send(new ListModelsCommand({}))).Models, []);
    const endpoints = await sdkFailure(narrowed.sagemaker.send(new ListEndpointsCommand({})));
    assert.deepEqual([endpoints.name, endpoints.message], [
      'AccessDeniedException',
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/short/narrowed is not authorized to perform: sagemaker:ListEndpoints on resource: * because no identity-based policy allows the sagemaker:ListEndpoints action`,
    ]);
    const deleteModel = await sdkFailure(narrowed.sagemaker.send(new DeleteModelCommand({ ModelName: 'm' })));
    assert.equal(deleteModel.name, 'AccessDeniedException');
    // Without a session policy, the same role lists endpoints.
    const full = pool.for(sessionCredentials((await pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('short'), RoleSessionName: 'full' }))).Credentials));
    assert.deepEqual((await full.sagemaker.send(new ListEndpointsCommand({}))).Endpoints, []);

    const notJson = await sdkFailure(pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('short'), RoleSessionName: 'broken', Policy: '{"Statement": [' })));
    assert.deepEqual([notJson.name, notJson.status], ['MalformedPolicyDocumentException', 400]);
  });

  it('GetSessionToken gives a user temporary credentials that act as the user; session credentials cannot ask for one', async () => {
    await iam.send(new PutUserPolicyCommand({ UserName: 'pat', PolicyName: 'session', PolicyDocument: policy({ Effect: 'Allow', Action: ['sts:GetSessionToken', 'sagemaker:ListEndpoints'], Resource: '*' }) }));
    const before = Date.now();
    const { Credentials } = await pat.sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    assert.match(Credentials!.AccessKeyId!, /^ASIA[A-Z0-9]{16}$/);
    assert.ok(Credentials!.SessionToken!.length > 100);
    assert.ok(Credentials!.Expiration!.getTime() >= Math.floor(before / 1000) * 1000 + 900_000);
    assert.ok(Credentials!.Expiration!.getTime() <= Date.now() + 900_000);
    const session = pool.for(sessionCredentials(Credentials));
    assert.equal((await session.sts.send(new GetCallerIdentityCommand({}))).Arn, userArn('pat'));
    assert.deepEqual((await session.sagemaker.send(new ListEndpointsCommand({}))).Endpoints, []);

    const again = await sdkFailure(session.sts.send(new GetSessionTokenCommand({})));
    assert.deepEqual(again, { name: 'AccessDenied', status: 403, message: 'Cannot call GetSessionToken with session credentials' });
    const role = pool.for(sessionCredentials((await pat.sts.send(new AssumeRoleCommand({ RoleArn: roleArn('short'), RoleSessionName: 'no-tokens' }))).Credentials));
    const fromRole = await sdkFailure(role.sts.send(new GetSessionTokenCommand({})));
    assert.deepEqual([fromRole.name, fromRole.status], ['AccessDenied', 403]);

    const tooLong = await sdkFailure(pat.sts.send(new GetSessionTokenCommand({ DurationSeconds: 129_601 })));
    assert.deepEqual([tooLong.name, tooLong.status], ['ValidationError', 400]);
  });
});
