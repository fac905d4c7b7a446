import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { ListEndpointsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createLogger } from '../core/logger.ts';
import { readCredentialsFile } from '../runtime/credentials/credentials-file.ts';
import { startTestKennel } from '../testing/test-kennel.ts';

const kennelBin = fileURLToPath(new URL('../../bin/kennel.js', import.meta.url));

/** Every file under `dir`, as bytes. */
async function allFiles(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const found: { path: string; bytes: Buffer }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await allFiles(path)));
    else if (entry.isFile()) found.push({ path, bytes: await readFile(path) });
  }
  return found;
}

describe('IAM state', { timeout: 300_000 }, () => {
  const homes: string[] = [];
  const children: ChildProcess[] = [];
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it('keeps every secret out of logs, audit records and the database, and writes key files readable by the owner only', async () => {
    const logLines: string[] = [];
    const test = await startTestKennel({ logger: createLogger('debug', (line) => logLines.push(line)) });
    try {
      const config = { endpoint: test.url, region: 'us-east-1', credentials: test.credentials };
      const iam = new IAMClient(config);
      await iam.send(new CreateUserCommand({ UserName: 'alice' }));
      await iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'assume', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }) }));
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
      await iam.send(
        new CreateRoleCommand({
          RoleName: 'reader',
          AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '000000000000' }, Action: 'sts:AssumeRole' }] }),
        }),
      );
      const alice = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
      const { Credentials } = await new STSClient({ ...config, credentials: alice }).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/reader', RoleSessionName: 'reader-session' }));
      const session = { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
      await new STSClient({ ...config, credentials: session }).send(new GetCallerIdentityCommand({}));
      // Denied and badly signed calls are recorded too.
      await new SageMakerClient({ ...config, credentials: session }).send(new ListEndpointsCommand({})).catch(() => undefined);
      await new SageMakerClient({ ...config, credentials: { ...alice, secretAccessKey: 'x'.repeat(40) } }).send(new ListEndpointsCommand({})).catch(() => undefined);

      const secrets = [test.credentials.secretAccessKey, alice.secretAccessKey, session.secretAccessKey, session.sessionToken];
      const events = test.kennel.platform.audit.query();
      assert.ok(events.length >= 8, `${events.length} audit events`);
      assert.ok(events.some((event) => event.principalArn === 'arn:aws:sts::000000000000:assumed-role/reader/reader-session' && event.action === 'sagemaker:ListEndpoints'));
      assert.ok(events.some((event) => event.errorCode === 'InvalidSignatureException' && event.principalArn === ''));
      const places = [
        { name: 'the server log', text: logLines.join('\n') },
        { name: 'the audit trail', text: JSON.stringify(events) },
        // The credentials file holds the admin's key by design; nothing else may.
        ...(await allFiles(test.home)).filter((file) => file.path !== test.kennel.dirs.credentialsFile).map((file) => ({ name: file.path, text: file.bytes.toString('latin1') })),
      ];
      for (const place of places) {
        for (const secret of secrets) assert.ok(!place.text.includes(secret), `${place.name} holds a secret`);
      }
      for (const file of [test.kennel.dirs.credentialsFile, test.kennel.dirs.secretKeyFile]) {
        assert.equal((await stat(file)).mode & 0o777, 0o600, file);
      }
    } finally {
      await test.close();
    }
  });

  it('keeps users, keys, sessions and the audit trail across kill -9, and refuses to start on a damaged key file', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kennel-iam-state-'));
    homes.push(home);
    const start = async () => {
      const child = spawn(process.execPath, [kennelBin, 'up', '--port', '0'], { cwd: home, env: { ...process.env, KENNEL_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let output = '';
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      return new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
          if (url && output.includes('Ready.')) resolve({ child, url });
        });
        child.once('exit', (code) => reject(Object.assign(new Error(`kennel up exited (${code})`), { output })));
      });
    };
    const kill9 = (child: ChildProcess) => new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGKILL')));

    const first = await start();
    const admin = await readCredentialsFile(join(home, 'credentials'));
    const config = { endpoint: first.url, region: 'us-east-1', credentials: admin };
    await new IAMClient(config).send(new CreateUserCommand({ UserName: 'bob' }));
    const { AccessKey } = await new IAMClient(config).send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    await kill9(first.child);

    const second = await start();
    const bob = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    const identity = await new STSClient({ endpoint: second.url, region: 'us-east-1', credentials: bob }).send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Arn, 'arn:aws:iam::000000000000:user/bob', "bob's key still signs after kill -9");
    const audit = await new Promise<string>((resolve) => {
      const cli = spawn(process.execPath, [kennelBin, '--endpoint-url', second.url, 'iam', 'audit', '--principal', 'arn:aws:iam::000000000000:user/admin', '--jsonl'], {
        env: { ...process.env, KENNEL_HOME: home },
      });
      let out = '';
      cli.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      cli.once('exit', () => resolve(out));
    });
    const actions = audit.trim().split('\n').map((line) => JSON.parse(line).action);
    assert.ok(actions.includes('iam:CreateUser') && actions.includes('iam:CreateAccessKey'), `the audit trail kept the calls before kill -9: ${actions.join(', ')}`);
    await kill9(second.child);

    await truncate(join(home, 'secrets.key'), 7);
    const refused = await start().then(
      () => assert.fail('started on a damaged key file'),
      (error: Error & { output: string }) => error.output,
    );
    assert.match(refused, /secrets\.key holds 7 bytes, not 32/);
  });
});
