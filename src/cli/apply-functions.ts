import { createHash } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import { iamArn } from '../domain/iam/arn.ts';
import { readPackage } from '../runtime/functions/function-package.ts';
import { AwsServiceError, type KennelClient } from './client.ts';
import type { WorkloadSpec } from './spec.ts';

type FunctionSpec = NonNullable<WorkloadSpec['functions']>[number];

/** What GetFunctionConfiguration says, as far as a spec sets it. */
interface FunctionConfiguration {
  Runtime?: string;
  Handler?: string;
  Role?: string;
  MemorySize?: number;
  Timeout?: number;
  Environment?: { Variables?: Record<string, string> };
  CodeSha256?: string;
  State?: string;
  StateReason?: string;
  LastUpdateStatus?: string;
  LastUpdateStatusReason?: string;
}

const TRUST_LAMBDA = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
/** How long a function may take to become Active, or to finish an update, before apply gives up on it. */
const SETTLE_TIMEOUT_MS = 120_000;
const POLL_MS = 200;

async function packageOf(path: string): Promise<Uint8Array> {
  const zip = await readPackage(path);
  if (!zip) throw new DomainError('ValidationError', `functions: code ${path} does not exist: give a folder or a .zip`);
  return zip;
}

/** The role's ARN, creating it (trusting Lambda, with exactly the spec's statements) when it does not exist. */
async function ensureRole(client: KennelClient, fn: FunctionSpec, say: (line: string) => void): Promise<string> {
  const arn = iamArn('role', '/', fn.role.name);
  try {
    await client.iam('CreateRole', { RoleName: fn.role.name, AssumeRolePolicyDocument: TRUST_LAMBDA });
    say(`role ${fn.role.name}: created`);
  } catch (error) {
    if (!(error instanceof AwsServiceError && error.type === 'EntityAlreadyExists')) throw error;
    say(`role ${fn.role.name}: exists`);
  }
  const statements = fn.role.allow.map((grant) => ({ Effect: 'Allow', Action: grant.action, Resource: grant.resource }));
  await client.iam('PutRolePolicy', { RoleName: fn.role.name, PolicyName: `${fn.name}-permissions`, PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) });
  return arn;
}

/** The configuration members the spec sets, as UpdateFunctionConfiguration takes them. Members the spec leaves out are left as they are. */
function configurationOf(fn: FunctionSpec, roleArn: string) {
  return {
    Runtime: fn.runtime,
    Handler: fn.handler,
    Role: roleArn,
    ...(fn.memorySize !== undefined ? { MemorySize: fn.memorySize } : {}),
    ...(fn.timeout !== undefined ? { Timeout: fn.timeout } : {}),
    ...(fn.environment ? { Environment: { Variables: fn.environment } } : {}),
  };
}

/** The names of the members whose value differs between the spec's configuration and the function's. */
function changedMembers(wanted: ReturnType<typeof configurationOf>, current: FunctionConfiguration): string[] {
  const changed: string[] = [];
  for (const [member, value] of Object.entries(wanted)) {
    const actual = member === 'Environment' ? { Variables: current.Environment?.Variables ?? {} } : current[member as keyof FunctionConfiguration];
    if (!sameValue(value, actual)) changed.push(member);
  }
  return changed;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/**
 * Polls until no change is landing on the function. With `failedIsSettled` (before an update),
 * a function whose package failed counts as settled, since the update is what repairs it; without
 * it (the final wait), it must be Active, and Failed is an error that says why. No change within
 * the timeout is an error too.
 */
async function settled(client: KennelClient, fn: FunctionSpec, path: string, failedIsSettled = false): Promise<FunctionConfiguration> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const state = await client.lambda<FunctionConfiguration>('GET', `${path}/configuration`);
    const landing = state.State === 'Pending' || state.LastUpdateStatus === 'InProgress';
    if (!landing && failedIsSettled) return state;
    if (state.State === 'Failed') throw new DomainError('Conflict', `function ${fn.name} failed: ${state.StateReason ?? 'no reason given'}`);
    if (state.LastUpdateStatus === 'Failed') throw new DomainError('Conflict', `function ${fn.name}: its last update failed: ${state.LastUpdateStatusReason ?? 'no reason given'}`);
    if (state.State === 'Active' && !landing) return state;
    if (Date.now() > deadline) {
      throw new DomainError('Conflict', `function ${fn.name} is still ${state.State}, last update ${state.LastUpdateStatus ?? 'none'}, after ${SETTLE_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * The spec's functions, brought to what the spec says: each one's execution
 * role (its policy set to the spec's statements, nothing more); the function,
 * created, or else its configuration and code updated where they differ from
 * the spec; its reserved concurrency; and a wait until it is Active with no
 * update in progress. Applying the same spec twice changes nothing the second time.
 */
export async function applyFunctions(client: KennelClient, spec: WorkloadSpec, say: (line: string) => void): Promise<void> {
  for (const fn of spec.functions ?? []) {
    const roleArn = await ensureRole(client, fn, say);
    const path = `/2015-03-31/functions/${encodeURIComponent(fn.name)}`;
    const zip = await packageOf(fn.code);
    const configuration = configurationOf(fn, roleArn);
    const current = await client.lambda<FunctionConfiguration>('GET', `${path}/configuration`).catch((error: unknown) => {
      if (error instanceof DomainError && error.code === 'NotFound') return undefined;
      throw error;
    });
    if (current === undefined) {
      // A role just made can be assumed at once here; on AWS, IAM's eventual consistency would need a retry.
      await client.lambda('POST', '/2015-03-31/functions', { FunctionName: fn.name, ...configuration, Code: { ZipFile: Buffer.from(zip).toString('base64') } });
      say(`function ${fn.name}: created`);
    } else {
      // Lambda takes one update at a time: each waits for the one before it.
      const before = await settled(client, fn, path, true);
      const changed = changedMembers(configuration, before);
      if (changed.length > 0) {
        await client.lambda('PUT', `${path}/configuration`, configuration);
        say(`function ${fn.name}: configuration updated (${changed.join(', ')})`);
      }
      const codeChanged = createHash('sha256').update(zip).digest('base64') !== before.CodeSha256;
      if (codeChanged) {
        if (changed.length > 0) await settled(client, fn, path, true);
        await client.lambda('PUT', `${path}/code`, { ZipFile: Buffer.from(zip).toString('base64') });
        say(`function ${fn.name}: code updated`);
      }
      if (changed.length === 0 && !codeChanged) say(`function ${fn.name}: exists, as the spec says`);
    }
    if (fn.reservedConcurrency !== undefined) {
      await client.lambda('PUT', `/2017-10-31/functions/${encodeURIComponent(fn.name)}/concurrency`, { ReservedConcurrentExecutions: fn.reservedConcurrency });
    }
    await settled(client, fn, path);
    say(`function ${fn.name}: Active${fn.reservedConcurrency !== undefined ? `, reserved concurrency ${fn.reservedConcurrency}` : ''}`);
  }
}
