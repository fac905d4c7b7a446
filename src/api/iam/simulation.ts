import { DomainError } from '../../core/errors.ts';
import { compilePolicy, type CompiledPolicy } from '../../domain/iam/compile-policy.ts';
import { parsePolicyDocument } from '../../domain/iam/policy-document.ts';
import type { AuthorizationPrincipal, ContextValue } from '../../domain/iam/evaluate.ts';
import { ACCOUNT_ID, AWS_MANAGED_POLICY_PREFIX, DEFAULT_REGION } from '../../domain/iam/arn.ts';
import type { Platform } from '../../control/platform.ts';
import type { IamOperations } from './identities.ts';
import { callerOf } from './identities.ts';
import { markerPage } from './wire.ts';

interface ContextEntry {
  ContextKeyName?: string;
  ContextKeyValues?: string[];
  ContextKeyType?: string;
}

interface SimulationInput {
  PolicyInputList?: string[];
  PermissionsBoundaryPolicyInputList?: string[];
  ActionNames: string[];
  ResourceArns?: string[];
  ResourcePolicy?: string;
  CallerArn?: string;
  ContextEntries?: ContextEntry[];
  Marker?: string;
  MaxItems?: number;
}

/** One call's evaluations at most: each is cheap, but a 1 MB request can name tens of thousands of actions and resources. */
const MAX_EVALUATIONS = 10_000;

const DECISIONS = { Allow: 'allowed', ExplicitDeny: 'explicitDeny', ImplicitDeny: 'implicitDeny' } as const;

/** Context entries as the simulation APIs take them: `*List` types carry every value, the others the first. */
function contextOf(entries: readonly ContextEntry[] | undefined): Record<string, ContextValue> {
  const context: Record<string, ContextValue> = {};
  for (const entry of entries ?? []) {
    if (!entry.ContextKeyName) continue;
    const values = entry.ContextKeyValues ?? [];
    context[entry.ContextKeyName] = entry.ContextKeyType?.endsWith('List') ? values : (values[0] ?? '');
  }
  return context;
}

/** IAM's SourcePolicyType for a statement's policy label. */
function sourceType(label: string): string {
  if (label.startsWith(AWS_MANAGED_POLICY_PREFIX)) return 'aws-managed';
  if (label.includes(':policy/')) return 'user-managed';
  if (label.startsWith('resource')) return 'resource';
  if (label.includes(':group/')) return 'group';
  if (label.includes(':role/')) return 'role';
  return 'user';
}

/**
 * SimulatePrincipalPolicy and SimulateCustomPolicy: the same evaluator as every
 * request, over a principal's stored policies or over policies passed in, for
 * each action on each resource.
 */
export function simulationOperations(platform: Platform): IamOperations {
  const { authorizer } = platform;
  /** A policy passed in: a malformed one is the caller's mistake, named as such. */
  const compileGiven = (document: string, label: string, kind: 'identity' | 'resource', named = label) => {
    try {
      return compilePolicy(parsePolicyDocument(document, kind), { policyId: label });
    } catch (error) {
      throw new DomainError('MalformedPolicyDocument', `${named} is not a valid ${kind} policy: ${(error as Error).message}`);
    }
  };
  const compileInputs = (documents: readonly string[] | undefined, prefix: string) =>
    (documents ?? []).map((document, index) => compileGiven(document, `${prefix}.${index + 1}`, 'identity', `${prefix} member ${index + 1}`));

  const simulate = (input: SimulationInput, identity: CompiledPolicy[], boundaries: CompiledPolicy[], principal: AuthorizationPrincipal) => {
    const resourcePolicy = input.ResourcePolicy !== undefined ? compileGiven(input.ResourcePolicy, 'ResourcePolicy', 'resource') : undefined;
    const evaluations = input.ActionNames.length * Math.max(1, input.ResourceArns?.length ?? 0);
    if (evaluations > MAX_EVALUATIONS) {
      throw new DomainError('ValidationError', `ActionNames × ResourceArns asks for ${evaluations} evaluations; simulate at most ${MAX_EVALUATIONS} per call`, { field: 'ActionNames' });
    }
    const context = contextOf(input.ContextEntries);
    const sourceIp = typeof context['aws:SourceIp'] === 'string' ? context['aws:SourceIp'] : undefined;
    const results = input.ActionNames.flatMap((action) =>
      (input.ResourceArns?.length ? input.ResourceArns : ['*']).map((resource) => {
        const outcome = authorizer.evaluate(
          { identityPolicies: identity, ...(resourcePolicy ? { resourcePolicy } : {}), ...(boundaries.length > 0 ? { permissionsBoundaries: boundaries } : {}) },
          principal,
          { action, resource, context },
          { nowMs: platform.deps.clock.now(), sourceIp: sourceIp ?? '127.0.0.1', secureTransport: false, region: DEFAULT_REGION },
        );
        return {
          EvalActionName: action,
          EvalResourceName: resource,
          EvalDecision: DECISIONS[outcome.decision],
          MatchedStatements: outcome.matched.map((match) => ({ SourcePolicyId: match.policyId ?? 'policy', SourcePolicyType: sourceType(match.policyId ?? '') })),
          MissingContextValues: [],
        };
      }),
    );
    const { page, ...rest } = markerPage(
      results.map((result, index) => ({ result, key: String(index).padStart(8, '0') })),
      (entry) => entry.key,
      input,
    );
    return { EvaluationResults: page.map((entry) => entry.result), ...rest };
  };

  return {
    SimulatePrincipalPolicy: {
      handler: (input: SimulationInput & { PolicySourceArn: string }) => {
        const found = authorizer.policiesOfPrincipal(input.PolicySourceArn);
        if (!found) throw new DomainError('NotFound', `The principal ${input.PolicySourceArn} cannot be found.`, { arn: input.PolicySourceArn });
        const identity = [...found.identity, ...compileInputs(input.PolicyInputList, 'PolicyInputList')];
        const boundaries = input.PermissionsBoundaryPolicyInputList
          ? compileInputs(input.PermissionsBoundaryPolicyInputList, 'PermissionsBoundaryPolicyInputList')
          : found.boundaries;
        return simulate(input, identity, boundaries, found.principal);
      },
    },
    SimulateCustomPolicy: {
      handler: (input: SimulationInput, c) => {
        const callerArn = input.CallerArn ?? callerOf(platform, c).arn;
        const principal: AuthorizationPrincipal = {
          arn: callerArn,
          accountId: ACCOUNT_ID,
          type: callerArn.includes(':assumed-role/') ? 'AssumedRole' : callerArn.includes(':role/') ? 'Role' : 'User',
          ...(callerArn.includes(':user/') ? { userName: callerArn.slice(callerArn.lastIndexOf('/') + 1) } : {}),
        };
        return simulate(
          input,
          compileInputs(input.PolicyInputList, 'PolicyInputList'),
          compileInputs(input.PermissionsBoundaryPolicyInputList, 'PermissionsBoundaryPolicyInputList'),
          principal,
        );
      },
    },
  };
}
