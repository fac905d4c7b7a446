/**
 * The Kennel side: a real Kennel (SQLite, HTTP on port 0) in this process, in a folder of the
 * bench's, with the bench's no-op functions created through the AWS SDK as a user would, and
 * the way to give a function new environments: a configuration change.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionActiveV2, type LambdaClient, type Runtime } from '@aws-sdk/client-lambda';
import { zipFiles } from '../../src/runtime/functions/function-package.ts';
import { AwsClientPool, createFunctionRole } from '../../src/testing/aws-clients.ts';
import { startTestKennel, type TestKennel } from '../../src/testing/test-kennel.ts';

/** The handler the brief names, as a file: Kennel runs it from its zip, the peer imports it. */
export const NODE_HANDLER = { file: 'noop.mjs', handler: 'noop.handler', exportName: 'handler', source: 'export const handler = async () => ({});\n' };
export const PYTHON_HANDLER = { file: 'noop.py', handler: 'noop.handler', source: 'def handler(event, context):\n    return {}\n' };

export const WARM_FUNCTION = 'bench-noop';
export const COLD_NODE_FUNCTION = 'bench-cold-node';
export const COLD_PYTHON_FUNCTION = 'bench-cold-python';

/** How long a configuration change may take to be Successful before the bench gives up. */
const UPDATE_TIMEOUT_MS = 30_000;

export interface BenchKennel {
  test: TestKennel;
  /** The admin's SDK client, for the control plane. */
  lambda: LambdaClient;
  /** The Node.js handler as a file, for the peer. */
  nodeHandlerFile: string;
  close(): Promise<void>;
}

/**
 * Kennel in `home`, a role for the functions, and the functions: the warm no-op and the two
 * that are made cold again and again (Python's only when `pythonRuntime` is given).
 */
export async function startBenchKennel(dir: string, pythonRuntime: string | undefined): Promise<BenchKennel> {
  const nodeHandlerFile = join(dir, NODE_HANDLER.file);
  await writeFile(nodeHandlerFile, NODE_HANDLER.source);
  const test = await startTestKennel({ home: join(dir, 'home') });
  const pool = new AwsClientPool(test.url);
  try {
    const { iam, lambda } = pool.for(test.credentials);
    const role = await createFunctionRole(iam, 'bench-functions-role');
    const nodeZip = await zipFiles({ [NODE_HANDLER.file]: NODE_HANDLER.source });
    const create = async (name: string, runtime: string, handler: string, zip: Buffer) => {
      await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: runtime as Runtime, Handler: handler, Role: role, Code: { ZipFile: zip }, MemorySize: 128, Timeout: 3 }));
      await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: name });
    };
    await create(WARM_FUNCTION, 'nodejs20.x', NODE_HANDLER.handler, nodeZip);
    await create(COLD_NODE_FUNCTION, 'nodejs20.x', NODE_HANDLER.handler, nodeZip);
    if (pythonRuntime !== undefined) await create(COLD_PYTHON_FUNCTION, pythonRuntime, PYTHON_HANDLER.handler, await zipFiles({ [PYTHON_HANDLER.file]: PYTHON_HANDLER.source }));
    return {
      test,
      lambda,
      nodeHandlerFile,
      async close() {
        pool.destroy();
        await test.close();
      },
    };
  } catch (error) {
    pool.destroy();
    await test.close();
    throw error;
  }
}

/**
 * A new configuration (one environment variable changed), once Lambda says it is in place
 * (LastUpdateStatus Successful): environments are per configuration, so the next Invoke
 * starts a new one. Returns how long the update took to be Successful.
 */
export async function newConfiguration(lambda: LambdaClient, functionName: string, round: string): Promise<number> {
  const started = performance.now();
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, Environment: { Variables: { BENCH_ROUND: round } } }));
  for (;;) {
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    if (configuration.LastUpdateStatus === 'Successful') return performance.now() - started;
    if (configuration.LastUpdateStatus === 'Failed') throw new Error(`${functionName}: the configuration update failed: ${configuration.LastUpdateStatusReason}`);
    if (performance.now() - started > UPDATE_TIMEOUT_MS) throw new Error(`${functionName}: the configuration update was not Successful after ${UPDATE_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Init Duration and Duration from a REPORT line in a log tail (X-Amz-Log-Result, base64). */
export function reportOf(logResult: string | undefined): { initDurationMs?: number; durationMs?: number } {
  const log = Buffer.from(logResult ?? '', 'base64').toString('utf8');
  const report = log.split('\n').find((line) => line.startsWith('REPORT '));
  if (report === undefined) return {};
  const number = (pattern: RegExp) => {
    const match = pattern.exec(report);
    return match === null ? undefined : Number(match[1]);
  };
  const initDurationMs = number(/Init Duration: ([\d.]+) ms/);
  const durationMs = number(/\tDuration: ([\d.]+) ms/);
  return { ...(initDurationMs === undefined ? {} : { initDurationMs }), ...(durationMs === undefined ? {} : { durationMs }) };
}
