import { DomainError } from '../core/errors.ts';
import { iamArn } from '../domain/iam/arn.ts';
import { readPackage } from '../runtime/functions/function-package.ts';
import { AwsServiceError, type KennelClient } from './client.ts';
import type { WorkloadSpec } from './spec.ts';

type FunctionSpec = NonNullable<WorkloadSpec['functions']>[number];

const TRUST_LAMBDA = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

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

/**
 * The spec's functions: each one's execution role (its policy set to what the
 * spec allows, nothing more), the function unless it exists, its reserved
 * concurrency, and a wait until it is Active.
 */
export async function applyFunctions(client: KennelClient, spec: WorkloadSpec, say: (line: string) => void): Promise<void> {
  for (const fn of spec.functions ?? []) {
    const roleArn = await ensureRole(client, fn, say);
    const path = `/2015-03-31/functions/${encodeURIComponent(fn.name)}`;
    const exists = await client.lambda('GET', `${path}/configuration`).then(
      () => true,
      (error: unknown) => {
        if (error instanceof DomainError && error.code === 'NotFound') return false;
        throw error;
      },
    );
    if (exists) say(`function ${fn.name}: exists`);
    else {
      // A role just made can be assumed at once here; on AWS, IAM's eventual consistency would need a retry.
      await client.lambda('POST', '/2015-03-31/functions', {
        FunctionName: fn.name,
        Runtime: fn.runtime,
        Handler: fn.handler,
        Role: roleArn,
        Code: { ZipFile: Buffer.from(await packageOf(fn.code)).toString('base64') },
        ...(fn.memorySize !== undefined ? { MemorySize: fn.memorySize } : {}),
        ...(fn.timeout !== undefined ? { Timeout: fn.timeout } : {}),
        ...(fn.environment ? { Environment: { Variables: fn.environment } } : {}),
      });
      say(`function ${fn.name}: created`);
    }
    if (fn.reservedConcurrency !== undefined) {
      await client.lambda('PUT', `/2017-10-31/functions/${encodeURIComponent(fn.name)}/concurrency`, { ReservedConcurrentExecutions: fn.reservedConcurrency });
    }
    for (;;) {
      const state = await client.lambda<{ State?: string; StateReason?: string; LastUpdateStatus?: string }>('GET', `${path}/configuration`);
      if (state.State === 'Failed') throw new DomainError('Conflict', `function ${fn.name} failed: ${state.StateReason ?? 'no reason given'}`);
      if (state.State === 'Active' && state.LastUpdateStatus !== 'InProgress') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    say(`function ${fn.name}: Active${fn.reservedConcurrency !== undefined ? `, reserved concurrency ${fn.reservedConcurrency}` : ''}`);
  }
}
