import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  GetPolicyCommand,
  InvokeCommand,
  PublishVersionCommand,
  RemovePermissionCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { zipFiles } from '../../runtime/functions/function-package.ts';
import { closeKennelWithClients, createActiveFunction, createFunctionRole, createUserWithKey, policy, startKennelWithClients, type AwsClientPool } from '../../testing/aws-clients.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';
import type { TestKennel } from '../../testing/test-kennel.ts';

/**
 * Who may call a function: the caller's own policies, or the function's
 * resource-based policy (AddPermission), either of which allows within the
 * account; and CreateFunction hands the function a role, which takes
 * iam:PassRole on that role.
 */
const ACCOUNT = '000000000000';
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:guarded`;
const HANDLER = 'export const handler = async (event) => ({ guarded: event });';

describe('Lambda authorization: resource-based policies and iam:PassRole', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let admin: { lambda: LambdaClient; iam: IAMClient };
  let outsider: LambdaClient;
  let roleArn: string;
  let zip: Buffer;

  const invoke = (client: LambdaClient, FunctionName: string) => client.send(new InvokeCommand({ FunctionName, Payload: new TextEncoder().encode('{"dog":"rex"}') }));
  const text = (payload: Uint8Array | undefined) => new TextDecoder().decode(payload);
  const denial = (user: string, action: string, resource: string) =>
    new RegExp(`^User: arn:aws:iam::${ACCOUNT}:user/${user} is not authorized to perform: ${action} on resource: ${resource.replace(/[$]/g, '\\$')}`);

  before(async () => {
    ({ test, pool } = await startKennelWithClients());
    admin = pool.for(test.credentials);
    roleArn = await createFunctionRole(admin.iam, 'guarded-role');
    zip = await zipFiles({ 'index.mjs': HANDLER });
    await createActiveFunction(admin.lambda, { FunctionName: 'guarded', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: roleArn, Code: { ZipFile: zip } });
    outsider = pool.for(await createUserWithKey(admin.iam, 'outsider')).lambda;
  });
  after(() => closeKennelWithClients(test, pool));

  it('lets a user with no Lambda permissions invoke once AddPermission names it, and no longer after RemovePermission', async () => {
    const before = await sdkFailure(invoke(outsider, 'guarded'));
    assert.equal(before.name, 'AccessDeniedException');
    assert.equal(before.status, 403);
    assert.match(before.message, denial('outsider', 'lambda:InvokeFunction', FUNCTION_ARN));

    await admin.lambda.send(
      new AddPermissionCommand({ FunctionName: 'guarded', StatementId: 'outsider-invokes', Action: 'lambda:InvokeFunction', Principal: `arn:aws:iam::${ACCOUNT}:user/outsider` }),
    );
    const allowed = await invoke(outsider, 'guarded');
    assert.equal(allowed.StatusCode, 200);
    assert.deepEqual(JSON.parse(text(allowed.Payload)), { guarded: { dog: 'rex' } });
    const queued = await outsider.send(new InvokeCommand({ FunctionName: FUNCTION_ARN, InvocationType: 'Event' }));
    assert.equal(queued.StatusCode, 202, 'the function ARN and the Event type are the same action');
    const other = await sdkFailure(outsider.send(new GetFunctionCommand({ FunctionName: 'guarded' })));
    assert.equal(other.name, 'AccessDeniedException', 'the statement grants invoking only');
    assert.match(other.message, denial('outsider', 'lambda:GetFunction', FUNCTION_ARN));

    await admin.lambda.send(new RemovePermissionCommand({ FunctionName: 'guarded', StatementId: 'outsider-invokes' }));
    const after = await sdkFailure(invoke(outsider, 'guarded'));
    assert.equal(after.name, 'AccessDeniedException');
    assert.match(after.message, denial('outsider', 'lambda:InvokeFunction', FUNCTION_ARN));
  });

  it('scopes a permission added with a Qualifier to that alias, whose policy GetPolicy and RemovePermission name by the qualifier', async () => {
    await admin.lambda.send(new PublishVersionCommand({ FunctionName: 'guarded' }));
    await admin.lambda.send(new CreateAliasCommand({ FunctionName: 'guarded', Name: 'live', FunctionVersion: '1' }));
    await admin.lambda.send(
      new AddPermissionCommand({ FunctionName: 'guarded', Qualifier: 'live', StatementId: 'outsider-invokes-live', Action: 'lambda:InvokeFunction', Principal: `arn:aws:iam::${ACCOUNT}:user/outsider` }),
    );
    const viaAlias = await invoke(outsider, 'guarded:live');
    assert.equal(viaAlias.ExecutedVersion, '1');
    assert.match((await sdkFailure(invoke(outsider, 'guarded'))).message, denial('outsider', 'lambda:InvokeFunction', FUNCTION_ARN));
    assert.match((await sdkFailure(invoke(outsider, 'guarded:1'))).message, denial('outsider', 'lambda:InvokeFunction', `${FUNCTION_ARN}:1`));
    const { Policy } = await admin.lambda.send(new GetPolicyCommand({ FunctionName: 'guarded', Qualifier: 'live' }));
    assert.deepEqual(JSON.parse(Policy!).Statement.map((statement: { Sid: string; Resource: string }) => [statement.Sid, statement.Resource]), [['outsider-invokes-live', `${FUNCTION_ARN}:live`]]);
    // Lambda keeps one policy per alias or version and one for the unqualified function.
    assert.equal((await sdkFailure(admin.lambda.send(new GetPolicyCommand({ FunctionName: 'guarded' })))).name, 'ResourceNotFoundException');
    assert.equal((await sdkFailure(admin.lambda.send(new GetPolicyCommand({ FunctionName: 'guarded', Qualifier: '1' })))).name, 'ResourceNotFoundException');
    assert.equal((await sdkFailure(admin.lambda.send(new RemovePermissionCommand({ FunctionName: 'guarded', StatementId: 'outsider-invokes-live' })))).name, 'ResourceNotFoundException');
    await admin.lambda.send(new RemovePermissionCommand({ FunctionName: 'guarded:live', StatementId: 'outsider-invokes-live' }));
    assert.equal((await sdkFailure(invoke(outsider, 'guarded:live'))).name, 'AccessDeniedException');
  });

  it('refuses CreateFunction to a user who may create functions but not pass the role, naming iam:PassRole', async () => {
    const credentials = await createUserWithKey(admin.iam, 'deployer');
    const deployer = pool.for(credentials).lambda;
    await admin.iam.send(
      new PutUserPolicyCommand({ UserName: 'deployer', PolicyName: 'functions', PolicyDocument: policy({ Effect: 'Allow', Action: ['lambda:CreateFunction', 'lambda:GetFunction'], Resource: '*' }) }),
    );
    const create = (name: string) => deployer.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: roleArn, Code: { ZipFile: zip } }));
    const refused = await sdkFailure(create('deployed'));
    assert.equal(refused.name, 'AccessDeniedException');
    assert.equal(refused.status, 403);
    assert.match(refused.message, denial('deployer', 'iam:PassRole', roleArn));
    assert.equal(test.kennel.platform.deps.store.lambdaFunctions.get('deployed'), undefined, 'nothing was created');

    await admin.iam.send(
      new PutUserPolicyCommand({
        UserName: 'deployer',
        PolicyName: 'pass-role',
        PolicyDocument: policy({ Effect: 'Allow', Action: 'iam:PassRole', Resource: roleArn, Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } } }),
      }),
    );
    const created = await create('deployed');
    assert.equal(created.FunctionArn, `arn:aws:lambda:us-east-1:${ACCOUNT}:function:deployed`);
    assert.equal(created.Role, roleArn);
  });
});
