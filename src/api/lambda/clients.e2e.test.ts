import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { zipFiles } from '../../runtime/functions/function-package.ts';
import { awsToolEnv, requireDebianTool } from '../../testing/aws-tools.ts';
import { startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';

/**
 * Lambda with the clients users have besides the JavaScript SDK: Debian's
 * boto3 (boto3-lambda.fixture.py) and AWS CLI, each creating functions from
 * zips, waiting with the service model's waiters, configuring versions,
 * aliases, concurrency, permissions and async settings, invoking every way
 * Invoke allows, and reading Lambda's errors, against a real Kennel. Both
 * clients come from apt (.ci/run installs them); a machine without them fails
 * here, loudly. Python functions run on Debian's python3.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const AWS = '/usr/bin/aws';
const ACCOUNT = '000000000000';
const ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Lambda through boto3 and the AWS CLI', { timeout: 300_000 }, () => {
  let test: TestKennel;
  let savedPython: string | undefined;

  before(async () => {
    requireDebianTool(PYTHON, 'python3-boto3');
    requireDebianTool(AWS, 'awscli');
    savedPython = process.env.KENNEL_PYTHON;
    // The server finds the interpreter for Python functions here; PATH may name another python3 first.
    process.env.KENNEL_PYTHON = PYTHON;
    test = await startTestKennel();
  });
  after(async () => {
    await test?.close();
    if (savedPython === undefined) delete process.env.KENNEL_PYTHON;
    else process.env.KENNEL_PYTHON = savedPython;
  });

  it('boto3: deploys a Node.js and a Python function, configures them, invokes them every way, and reads Lambda’s errors', async () => {
    const { stdout } = await run(PYTHON, [join(root, 'src/api/lambda/boto3-lambda.fixture.py')], { cwd: root, env: awsToolEnv(test), encoding: 'utf8', timeout: 240_000 });
    const found = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, any>;
    assert.match(String(found.botocore_path), /^\/usr\/lib\/python3\/dist-packages\//, "Debian's botocore");

    assert.deepEqual(found.created, {
      FunctionName: 'boto3-node',
      FunctionArn: `${ARN}boto3-node`,
      State: 'Pending',
      Version: '$LATEST',
      Runtime: 'nodejs20.x',
      MemorySize: 128,
      Timeout: 3,
      PackageType: 'Zip',
    });
    assert.deepEqual(found.got, { state: 'Active', environment: { Variables: { BREED: 'beagle' } }, tags: { 'made-by': 'boto3' }, repository: 'S3', downloaded: true });
    assert.deepEqual(found.listed, ['boto3-node'], 'the paginator walks pages of one');
    assert.equal(found.update_status, 'InProgress');
    assert.deepEqual(found.updated, { timeout: 10, memory: 256, description: 'echoes', status: 'Successful' });
    assert.equal(found.version, '1');
    assert.equal(found.alias_arn, `${ARN}boto3-node:live`);
    assert.equal(found.reserved, 5);
    assert.equal(found.provisioned.requested, 1);
    assert.ok(['IN_PROGRESS', 'READY'].includes(found.provisioned.status), found.provisioned.status);
    assert.deepEqual(found.account, { limit: 1000, unreserved: 995, functions: 1 });
    assert.deepEqual(found.statement, {
      Sid: 's3-invokes',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: `${ARN}boto3-node`,
      Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::dog-photos' } },
    });
    assert.deepEqual(found.policy, { Version: '2012-10-17', Id: 'default', Statement: [found.statement] });
    assert.deepEqual(found.event_config, { retries: 1, age: 300, arn: `${ARN}boto3-node:$LATEST`, modified_is_datetime: true });

    const tail = found.invoke_tail;
    assert.equal(tail.status, 200);
    assert.equal(tail.function_error, null);
    assert.equal(tail.executed_version, '$LATEST');
    assert.deepEqual(tail.payload, { echoed: { dog: 'rex' }, version: '$LATEST' });
    assert.match(tail.request_id, UUID);
    assert.match(tail.log, new RegExp(`START RequestId: ${tail.request_id} Version: \\$LATEST`));
    assert.match(tail.log, /woof from boto3-node/);
    assert.match(tail.log, new RegExp(`REPORT RequestId: ${tail.request_id}\\tDuration: [\\d.]+ ms`));
    assert.deepEqual([found.invoke_alias.status, found.invoke_alias.executed_version, found.invoke_alias.payload.version], [200, '1', '1']);
    assert.deepEqual([found.invoke_event.status, found.invoke_event.payload], [202, null]);
    assert.match(found.invoke_event.request_id, UUID);
    assert.deepEqual([found.invoke_dry_run.status, found.invoke_dry_run.payload], [204, null]);

    const python = found.python;
    assert.equal(python.status, 200);
    assert.equal(python.function_error, null, JSON.stringify(python.payload));
    assert.deepEqual(python.payload, { hello: 'fido', python: [3, 11], request_id: python.request_id, function: 'boto3-python' });
    assert.match(python.log, /hello from python/);
    assert.match(python.log, /REPORT RequestId: /);
    assert.equal(found.python_error.function_error, 'Unhandled');
    assert.equal(found.python_error.payload.errorType, 'KeyError');
    assert.equal(found.python_error.payload.errorMessage, "'name'");

    assert.deepEqual(found.no_such_function, { code: 'ResourceNotFoundException', status: 404, message: `Function not found: ${ARN}ghost`, reason: null });
    assert.deepEqual([found.invoke_missing.code, found.invoke_missing.status], ['ResourceNotFoundException', 404]);
    assert.equal(found.throttled.code, 'TooManyRequestsException');
    assert.equal(found.throttled.status, 429);
    assert.equal(found.throttled.reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal(found.throttled.message, 'Rate Exceeded.');
    assert.deepEqual([found.duplicate.code, found.duplicate.status, found.duplicate.message], ['ResourceConflictException', 409, 'Function already exist: boto3-node']);
    assert.deepEqual([found.bad_retries.code, found.bad_retries.status], ['ValidationException', 400]);
    assert.match(found.bad_retries.message, /^1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2/);
  });

  it('the AWS CLI: the same with aws lambda, waiting with aws lambda wait function-active-v2', async () => {
    const env = awsToolEnv(test, { AWS_MAX_ATTEMPTS: '1' });
    const aws = (...args: string[]) =>
      run(AWS, ['--endpoint-url', test.url, '--output', 'json', ...args], { env, cwd: test.home, encoding: 'utf8', timeout: 90_000 }).then(
        ({ stdout }) => ({ code: 0, json: stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, any>), stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, json: {} as Record<string, any>, stderr: error.stderr }),
      );
    const ok = async (...args: string[]) => {
      const result = await aws(...args);
      assert.equal(result.code, 0, `aws ${args.join(' ')}: ${result.stderr}`);
      return result.json;
    };
    const zipPath = join(test.home, 'cli-function.zip');
    await writeFile(zipPath, await zipFiles({ 'index.mjs': "export const handler = async (event, context) => { console.log('cli woof'); return { echoed: event, version: context.functionVersion }; };" }));

    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    const role = (await ok('iam', 'create-role', '--role-name', 'cli-function-role', '--assume-role-policy-document', JSON.stringify(trust))).Role;
    const create = (name: string) =>
      ok('lambda', 'create-function', '--function-name', name, '--runtime', 'nodejs20.x', '--handler', 'index.handler', '--role', role.Arn, '--zip-file', `fileb://${zipPath}`);
    const created = await create('cli-node');
    assert.equal(created.FunctionArn, `${ARN}cli-node`);
    assert.equal(created.State, 'Pending');
    assert.equal(created.CodeSize, (await readFile(zipPath)).byteLength);
    await ok('lambda', 'wait', 'function-active-v2', '--function-name', 'cli-node');
    const fetched = await ok('lambda', 'get-function', '--function-name', 'cli-node');
    assert.equal(fetched.Configuration.State, 'Active');
    assert.equal(fetched.Configuration.LastUpdateStatus, 'Successful');
    assert.ok((await ok('lambda', 'list-functions')).Functions.some((fn: { FunctionName: string }) => fn.FunctionName === 'cli-node'));

    const updated = await ok('lambda', 'update-function-configuration', '--function-name', 'cli-node', '--timeout', '15', '--environment', 'Variables={BREED=collie}');
    assert.equal(updated.LastUpdateStatus, 'InProgress');
    await ok('lambda', 'wait', 'function-updated-v2', '--function-name', 'cli-node');
    const configuration = await ok('lambda', 'get-function-configuration', '--function-name', 'cli-node');
    assert.deepEqual([configuration.Timeout, configuration.Environment, configuration.LastUpdateStatus], [15, { Variables: { BREED: 'collie' } }, 'Successful']);

    assert.equal((await ok('lambda', 'publish-version', '--function-name', 'cli-node')).Version, '1');
    assert.equal((await ok('lambda', 'create-alias', '--function-name', 'cli-node', '--name', 'live', '--function-version', '1')).AliasArn, `${ARN}cli-node:live`);
    const unreserved = async () => (await ok('lambda', 'get-account-settings')).AccountLimit.UnreservedConcurrentExecutions as number;
    const before = await unreserved();
    assert.equal((await ok('lambda', 'put-function-concurrency', '--function-name', 'cli-node', '--reserved-concurrent-executions', '3')).ReservedConcurrentExecutions, 3);
    assert.equal(await unreserved(), before - 3);
    const provisioned = await ok('lambda', 'put-provisioned-concurrency-config', '--function-name', 'cli-node', '--qualifier', 'live', '--provisioned-concurrent-executions', '1');
    assert.equal(provisioned.RequestedProvisionedConcurrentExecutions, 1);
    const added = await ok('lambda', 'add-permission', '--function-name', 'cli-node', '--statement-id', 'events', '--action', 'lambda:InvokeFunction', '--principal', 'events.amazonaws.com');
    assert.equal(JSON.parse(added.Statement).Sid, 'events');
    assert.deepEqual(JSON.parse((await ok('lambda', 'get-policy', '--function-name', 'cli-node')).Policy).Statement[0].Principal, { Service: 'events.amazonaws.com' });
    const eventConfig = await ok('lambda', 'put-function-event-invoke-config', '--function-name', 'cli-node', '--maximum-retry-attempts', '0');
    assert.equal(eventConfig.MaximumRetryAttempts, 0);

    const outfile = join(test.home, 'answer.json');
    const tail = await ok('lambda', 'invoke', '--function-name', 'cli-node', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{"dog":"lassie"}', '--log-type', 'Tail', outfile);
    assert.equal(tail.StatusCode, 200);
    assert.equal(tail.ExecutedVersion, '$LATEST');
    assert.deepEqual(JSON.parse(await readFile(outfile, 'utf8')), { echoed: { dog: 'lassie' }, version: '$LATEST' });
    const log = Buffer.from(tail.LogResult, 'base64').toString('utf8');
    assert.match(log, /cli woof/);
    assert.match(log, /REPORT RequestId: \S+\tDuration/);
    const viaAlias = await ok('lambda', 'invoke', '--function-name', 'cli-node:live', outfile);
    assert.equal(viaAlias.ExecutedVersion, '1');
    assert.equal((await ok('lambda', 'invoke', '--function-name', 'cli-node', '--invocation-type', 'Event', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{}', outfile)).StatusCode, 202);
    assert.equal((await ok('lambda', 'invoke', '--function-name', 'cli-node', '--invocation-type', 'DryRun', outfile)).StatusCode, 204);

    const ghost = await aws('lambda', 'get-function', '--function-name', 'ghost');
    assert.equal(ghost.code, 254);
    assert.match(ghost.stderr, new RegExp(`An error occurred \\(ResourceNotFoundException\\) when calling the GetFunction operation( \\(reached max retries: 0\\))?: Function not found: ${ARN}ghost`));
    await create('cli-closed');
    await ok('lambda', 'wait', 'function-active-v2', '--function-name', 'cli-closed');
    await ok('lambda', 'put-function-concurrency', '--function-name', 'cli-closed', '--reserved-concurrent-executions', '0');
    const throttled = await aws('lambda', 'invoke', '--function-name', 'cli-closed', outfile);
    assert.equal(throttled.code, 254);
    assert.match(throttled.stderr, /An error occurred \(TooManyRequestsException\) when calling the Invoke operation( \(reached max retries: 0\))?: Rate Exceeded\./);
  });
});
