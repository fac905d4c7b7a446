import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestKennel } from './test-kennel.ts';

const run = promisify(execFile);
const kennelBin = fileURLToPath(new URL('../../bin/kennel.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `kennel <args>` against `test` as a user would (asynchronously: the calling process is the
 * server), with credentials from the test's state folder only, and returns its exit code and output.
 */
export async function runKennelCli(test: TestKennel, args: readonly string[], timeoutMs = 300_000): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [kennelBin, '--endpoint-url', test.url, ...args], {
      cwd: test.home,
      env: { ...process.env, KENNEL_HOME: test.home, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' },
      encoding: 'utf8',
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
