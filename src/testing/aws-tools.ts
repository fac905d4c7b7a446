import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestKennel } from './test-kennel.ts';

/** Fails loudly when a Debian tool the test drives Kennel with is missing; .ci/run installs them. */
export function requireDebianTool(path: string, packages: string): void {
  assert.ok(existsSync(path), `${path} is missing: install ${packages} (apt-get install ${packages}); .ci/run does`);
}

/** The environment of an AWS CLI or boto3 process pointed at `test`: Kennel's credentials file, no user AWS config. */
export function awsToolEnv(test: TestKennel, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: test.home,
    AWS_SHARED_CREDENTIALS_FILE: join(test.home, 'credentials'),
    AWS_PROFILE: 'kennel',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(test.home, 'no-aws-config'),
    KENNEL_ENDPOINT_URL: test.url,
    ...extra,
  };
}

/** The AWS SDK error a call ends with: its name, HTTP status and message. Fails the test if the call succeeds. */
export async function sdkFailure(promise: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  assert.fail('expected the call to fail');
}

/** Debian's Python with numpy, which the inference-script tests serve with; fails loudly when numpy is missing. */
export function debianPythonWithNumpy(): string {
  const python = '/usr/bin/python3';
  requireDebianTool(python, 'python3');
  const probe = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' });
  assert.equal(probe.status, 0, `${python} cannot import numpy: install python3-numpy (apt-get install python3-numpy); .ci/run does. ${probe.stderr}`);
  return python;
}
