import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../core/errors.ts';
import { resolveCredentials } from './client.ts';

const VARIABLES = ['AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

/** resolveCredentials with exactly these AWS_* variables set (the SDK's providers read process.env). */
async function resolveWith(env: Record<string, string>, file: string) {
  const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return await resolveCredentials(file);
  } finally {
    for (const name of VARIABLES) delete process.env[name];
    for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
  }
}

/** Credentials are found the way the AWS SDKs find them, with Kennel's file and profile as the defaults. */
describe('resolveCredentials', () => {
  let dir: string;
  let kennelFile: string;
  let otherFile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-credentials-'));
    kennelFile = join(dir, 'credentials');
    otherFile = join(dir, 'elsewhere');
    await writeFile(
      kennelFile,
      [
        '[kennel]',
        'aws_access_key_id = AKIAKENNEL0000000000',
        'aws_secret_access_key = kennel-secret',
        '',
        '[ci]',
        'aws_access_key_id = ASIACI00000000000000',
        'aws_secret_access_key = ci-secret',
        'aws_session_token = ci-session-token',
        '',
      ].join('\n'),
    );
    await writeFile(otherFile, '[kennel]\naws_access_key_id = AKIAOTHER00000000000\naws_secret_access_key = other-secret\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads the kennel profile of the state folder's file by default", async () => {
    assert.deepEqual(await resolveWith({}, kennelFile), { accessKeyId: 'AKIAKENNEL0000000000', secretAccessKey: 'kennel-secret' });
  });

  it('follows AWS_PROFILE, with its session token', async () => {
    assert.deepEqual(await resolveWith({ AWS_PROFILE: 'ci' }, kennelFile), {
      accessKeyId: 'ASIACI00000000000000',
      secretAccessKey: 'ci-secret',
      sessionToken: 'ci-session-token',
    });
  });

  it('follows AWS_SHARED_CREDENTIALS_FILE', async () => {
    const found = await resolveWith({ AWS_SHARED_CREDENTIALS_FILE: otherFile }, kennelFile);
    assert.equal(found.accessKeyId, 'AKIAOTHER00000000000');
  });

  it('prefers AWS_ACCESS_KEY_ID and AWS_SESSION_TOKEN from the environment, unless AWS_PROFILE names a profile', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'ASIAENV0000000000000', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'env-token' };
    assert.deepEqual(await resolveWith(env, kennelFile), { accessKeyId: 'ASIAENV0000000000000', secretAccessKey: 'env-secret', sessionToken: 'env-token' });
    assert.equal((await resolveWith({ ...env, AWS_PROFILE: 'kennel' }, kennelFile)).accessKeyId, 'AKIAKENNEL0000000000');
  });

  it('says how to get credentials when there are none', async () => {
    await assert.rejects(resolveWith({}, join(dir, 'missing')), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.equal(error.code, 'MissingAuthenticationToken');
      assert.match(error.message, /profile \[kennel\] was not found in .*missing.*kennel up/);
      return true;
    });
    await assert.rejects(resolveWith({ AWS_PROFILE: 'nobody' }, kennelFile), /profile \[nobody\] was not found/);
  });
});
