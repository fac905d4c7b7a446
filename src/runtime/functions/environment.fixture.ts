import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecutionEnvironment, type StartOptions } from './execution-environment.ts';
import type { EnvironmentSpec, Invocation, InvocationOutcome } from './types.ts';

/** Kennel's own node_modules: what the server gives functions to find @aws-sdk/* in. */
export const KENNEL_NODE_MODULES = fileURLToPath(new URL('../../../node_modules', import.meta.url));
export const SECRET = 'aws_secret_access_key = do-not-leak';

/**
 * A function's folders laid out as Kennel's state folder has them: the code
 * and tmp folders inside a state folder that also holds `credentials`,
 * `secrets.key` and `kennel.db`, which the function must not read.
 */
export interface FunctionFolder {
  stateDir: string;
  codeDir: string;
  tmpDir: string;
  remove(): Promise<void>;
}

export async function functionFolder(files: Record<string, string>): Promise<FunctionFolder> {
  const root = await mkdtemp(join(tmpdir(), 'kennel-fn-'));
  const stateDir = join(root, 'state');
  const codeDir = join(stateDir, 'functions', 'f', 'code');
  const tmpDir = join(stateDir, 'functions', 'f', 'tmp');
  await mkdir(codeDir, { recursive: true });
  await mkdir(tmpDir, { recursive: true });
  for (const name of ['credentials', 'secrets.key', 'kennel.db']) await writeFile(join(stateDir, name), SECRET);
  await writeFile(join(stateDir, 'functions', 'credentials'), SECRET);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(codeDir, path)), { recursive: true });
    await writeFile(join(codeDir, path), text);
  }
  return { stateDir, codeDir, tmpDir, remove: () => rm(root, { recursive: true, force: true }) };
}

export function specFor(folder: FunctionFolder, overrides: Partial<EnvironmentSpec> = {}): EnvironmentSpec {
  return {
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    codeDir: folder.codeDir,
    tmpDir: folder.tmpDir,
    memorySizeMb: 256,
    timeoutSeconds: 10,
    environment: {},
    functionName: 'dog-breeds',
    functionVersion: '$LATEST',
    region: 'eu-west-1',
    logGroupName: '/aws/lambda/dog-breeds',
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    ...overrides,
  };
}

export function invocation(payload: unknown = {}, overrides: Partial<Invocation> = {}): Invocation {
  return {
    requestId: randomUUID(),
    payload: Buffer.from(JSON.stringify(payload)),
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:dog-breeds',
    ...overrides,
  };
}

/** Starts an environment that must start. */
export async function started(spec: EnvironmentSpec, options: StartOptions = {}): Promise<ExecutionEnvironment> {
  const start = await ExecutionEnvironment.start(spec, options);
  assert.ok(start.ok, `the environment did not start: ${start.ok ? '' : `${start.errorType}: ${start.errorMessage}\n${start.logs}`}`);
  return start.environment;
}

/** Starts an environment for `files`, runs `body` with it, and removes everything afterwards. */
export async function withFunction<T>(
  files: Record<string, string>,
  overrides: Partial<EnvironmentSpec>,
  body: (environment: ExecutionEnvironment, folder: FunctionFolder) => Promise<T>,
  options: StartOptions = {},
): Promise<T> {
  const folder = await functionFolder(files);
  let environment: ExecutionEnvironment | undefined;
  try {
    environment = await started(specFor(folder, overrides), options);
    return await body(environment, folder);
  } finally {
    await environment?.close();
    await folder.remove();
  }
}

export function payloadOf(outcome: InvocationOutcome): unknown {
  return JSON.parse(outcome.payload.toString('utf8'));
}

/** The log lines of an outcome, without the final newline. */
export function logLines(outcome: { logs: string }): string[] {
  return outcome.logs.replace(/\n$/, '').split('\n');
}
