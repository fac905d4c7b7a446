import { DomainError } from '../core/errors.ts';
import type { AuditDecision } from '../domain/iam/entities.ts';
import { PolicyCache, type CompiledPolicy } from '../domain/iam/compile-policy.ts';
import { evaluatePolicies, requestContextKeys, type AuthorizationDecision, type AuthorizationPrincipal, type ContextValue, type PolicySet as EvaluatedPolicies } from '../domain/iam/evaluate.ts';
import type { PolicyKind } from '../domain/iam/policy-document.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import { ACCOUNT_ID } from '../domain/iam/arn.ts';
import type { Caller } from './credentials.ts';
import type { ControlDeps } from './deps.ts';
import { IamDerivedCache } from './iam-cache.ts';
import type { IamService } from './iam.ts';

/** One permission a request needs: most need one, CreateTrainingJob also iam:PassRole on its role. */
export interface PermissionCheck {
  action: string;
  resource: string;
  /** Service-specific condition keys (`iam:PassedToService`, `sagemaker:InstanceTypes`, …). */
  context?: Readonly<Record<string, string | readonly string[]>>;
  /** The resource's own policy: a role's trust policy for sts:AssumeRole (which must allow), a function's policy for Lambda. */
  resourcePolicy?: { label: string; document: string; kind: PolicyKind };
  /** aws:ResourceTag/* of the resource: read only when a policy in play names such a key, since reading costs a store lookup. */
  resourceTags?: () => readonly Tag[];
}

/** What the request says about itself, the same for all of its checks. */
export interface RequestFacts {
  nowMs: number;
  sourceIp: string;
  secureTransport: boolean;
  region: string;
  /** aws:RequestTag/* and aws:TagKeys: the tags the request sets. */
  requestTags?: readonly Tag[];
}

export interface AuthorizationResult {
  decision: AuditDecision;
  /** The check that was refused, when one was. */
  refused?: PermissionCheck;
  /** `<policy>#<statement>` labels of the statements that decided. */
  statements: string[];
}

/** Callers whose compiled policy sets are kept at once. */
const MAX_CACHED_CALLERS = 10_000;

interface PolicySet {
  identity: CompiledPolicy[];
  boundaries: CompiledPolicy[];
  session: CompiledPolicy[];
  principalTags: Record<string, string>;
  /** For role sessions: the role's ARN, path included. */
  roleArn?: string;
  /** Whether any of these policies names aws:ResourceTag: worked out once, not on every request. */
  readsResourceTags: boolean;
}

/**
 * Authorises requests with AWS's evaluation logic over the caller's policies:
 * for a user, its inline and attached policies and its groups'; for a role
 * session, the role's, narrowed by a session policy; each within a permission
 * boundary when one is set. A caller's compiled policy set is cached until IAM
 * next changes.
 */
export class Authorizer {
  readonly #deps: ControlDeps;
  readonly #iam: IamService;
  readonly #compiled = new PolicyCache(10_000);
  readonly #sets: IamDerivedCache<PolicySet>;

  constructor(deps: ControlDeps, iam: IamService) {
    this.#deps = deps;
    this.#iam = iam;
    this.#sets = new IamDerivedCache(() => iam.generation, MAX_CACHED_CALLERS);
  }

  /** Every check must be allowed; the first that is not decides. */
  authorize(caller: Caller, checks: readonly PermissionCheck[], facts: RequestFacts): AuthorizationResult {
    const set = this.#policySet(caller);
    const principal: AuthorizationPrincipal = {
      arn: caller.arn,
      accountId: caller.accountId,
      type: caller.type,
      userId: caller.userId,
      ...(caller.type === 'User' && caller.userName !== undefined ? { userName: caller.userName } : {}),
      ...(set.roleArn !== undefined ? { roleArn: set.roleArn } : {}),
      tags: set.principalTags,
    };
    const statements: string[] = [];
    for (const check of checks) {
      const resourcePolicy = check.resourcePolicy ? this.compile(check.resourcePolicy.label, check.resourcePolicy.document, check.resourcePolicy.kind) : undefined;
      const outcome = this.evaluate(
        {
          identityPolicies: set.identity,
          ...(resourcePolicy ? { resourcePolicy, resourcePolicyRequired: check.resourcePolicy!.kind === 'trust' } : {}),
          ...(set.boundaries.length > 0 ? { permissionsBoundaries: set.boundaries } : {}),
          ...(set.session.length > 0 ? { sessionPolicies: set.session } : {}),
        },
        principal,
        check,
        facts,
        set.readsResourceTags || (resourcePolicy !== undefined && policyReadsResourceTags(resourcePolicy)),
      );
      const labels = statementLabels(outcome);
      if (outcome.decision !== 'Allow') return { decision: outcome.decision, refused: check, statements: labels };
      statements.push(...labels);
    }
    return { decision: 'Allow', statements };
  }

  /** One decision over given policies: what authorize does per check, and what the simulation APIs ask. */
  evaluate(
    policies: EvaluatedPolicies,
    principal: AuthorizationPrincipal,
    check: PermissionCheck,
    facts: RequestFacts,
    readsTags = readsResourceTags(policies),
  ): AuthorizationDecision {
    const context = requestContextKeys({
      principal,
      nowMs: facts.nowMs,
      sourceIp: facts.sourceIp,
      secureTransport: facts.secureTransport,
      region: facts.region,
      requestTags: tagRecord(facts.requestTags ?? []),
      ...(check.resourceTags && readsTags ? { resourceTags: tagRecord(check.resourceTags()) } : {}),
      ...(check.context ? { extra: check.context as Readonly<Record<string, ContextValue>> } : {}),
    });
    return evaluatePolicies(policies, { principal, action: check.action, resource: check.resource, context });
  }

  /** A policy compiled once and cached by its label and text; a stored policy that no longer compiles is a bug. */
  compile(label: string, document: string, kind: PolicyKind): CompiledPolicy {
    try {
      return this.#compiled.compile(document, { kind, policyId: label });
    } catch (error) {
      throw new DomainError('Internal', `Policy ${label} could not be compiled: ${(error as Error).message}`);
    }
  }

  /** The identity policies, boundary and tags of a user or role, by ARN: what SimulatePrincipalPolicy evaluates. */
  policiesOfPrincipal(arn: string): { identity: CompiledPolicy[]; boundaries: CompiledPolicy[]; principal: AuthorizationPrincipal } | undefined {
    const { store } = this.#deps;
    const name = arn.slice(arn.lastIndexOf('/') + 1);
    const user = store.iamUsers.get(name);
    if (user?.arn === arn) {
      const set = this.#load({ arn, accountId: ACCOUNT_ID, type: 'User', userId: user.userId, accessKeyId: '', userName: name, sessionTags: [], temporary: false });
      return { identity: set.identity, boundaries: set.boundaries, principal: { arn, accountId: ACCOUNT_ID, type: 'User', userName: name, userId: user.userId, tags: set.principalTags } };
    }
    const role = store.iamRoles.get(name);
    if (role?.arn === arn) {
      const set = this.#load({ arn, accountId: ACCOUNT_ID, type: 'AssumedRole', userId: role.roleId, accessKeyId: '', roleName: name, sessionTags: [], temporary: true });
      return { identity: set.identity, boundaries: set.boundaries, principal: { arn, accountId: ACCOUNT_ID, type: 'Role', userId: role.roleId, tags: set.principalTags } };
    }
    const group = store.iamGroups.get(name);
    if (group?.arn === arn) return { identity: this.#policiesOf(group), boundaries: [], principal: { arn, accountId: ACCOUNT_ID, type: 'Group', userId: group.groupId } };
    return undefined;
  }

  #policySet(caller: Caller): PolicySet {
    return this.#sets.get(caller.accessKeyId, () => this.#load(caller))!;
  }

  /** A user's, group's or role's own policies: its inline ones, then its attached managed ones (a policy deleted since is skipped). */
  #policiesOf(identity: { arn: string; inlinePolicies: Readonly<Record<string, string>>; attachedPolicyArns: readonly string[] }): CompiledPolicy[] {
    const inline = Object.entries(identity.inlinePolicies).map(([name, document]) => this.compile(`${identity.arn}/inline/${name}`, document, 'identity'));
    const managed = identity.attachedPolicyArns.flatMap((arn) => {
      const document = this.#iam.policies.defaultDocument(arn);
      return document === undefined ? [] : [this.compile(arn, document, 'identity')];
    });
    return [...inline, ...managed];
  }

  #load(caller: Caller): PolicySet {
    const { store } = this.#deps;
    const identity: CompiledPolicy[] = [];
    const boundaries: CompiledPolicy[] = [];
    let principalTags: Record<string, string> = {};
    let roleArn: string | undefined;
    const addBoundary = (arn: string | undefined) => {
      const document = arn === undefined ? undefined : this.#iam.policies.defaultDocument(arn);
      // A boundary whose policy is gone allows nothing, rather than lifting the boundary.
      if (arn !== undefined) boundaries.push(this.compile(`${arn} (boundary)`, document ?? '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}', 'identity'));
    };
    if (caller.roleName !== undefined) {
      const role = store.iamRoles.get(caller.roleName);
      if (role) {
        identity.push(...this.#policiesOf(role));
        addBoundary(role.permissionsBoundaryArn);
        principalTags = tagRecord(mergeTags(role.tags, caller.sessionTags));
        roleArn = role.arn;
      }
    } else if (caller.userName !== undefined) {
      const user = store.iamUsers.get(caller.userName);
      if (user) {
        identity.push(...this.#policiesOf(user));
        for (const groupName of user.groupNames) {
          const group = store.iamGroups.get(groupName);
          if (group) identity.push(...this.#policiesOf(group));
        }
        addBoundary(user.permissionsBoundaryArn);
        principalTags = tagRecord(user.tags);
      }
    }
    const session = (caller.sessionPolicies ?? []).map((policy) => this.compile(policy.label, policy.document, 'identity'));
    return {
      identity,
      boundaries,
      session,
      principalTags,
      ...(roleArn !== undefined ? { roleArn } : {}),
      readsResourceTags: [...identity, ...boundaries, ...session].some(policyReadsResourceTags),
    };
  }
}

const RESOURCE_TAG = 'aws:resourcetag/';
const readsTagsCache = new WeakMap<CompiledPolicy, boolean>();

/** Whether a policy names aws:ResourceTag/… in a condition key or a policy variable. */
function policyReadsResourceTags(policy: CompiledPolicy): boolean {
  let reads = readsTagsCache.get(policy);
  if (reads === undefined) {
    reads = policy.document.statements.some(
      (statement) =>
        statement.conditions.some((clause) => clause.key.toLowerCase().startsWith(RESOURCE_TAG) || clause.values.some((value) => value.toLowerCase().includes('${' + RESOURCE_TAG))) ||
        [...(statement.resource ?? []), ...(statement.notResource ?? [])].some((arn) => arn.toLowerCase().includes('${' + RESOURCE_TAG)),
    );
    readsTagsCache.set(policy, reads);
  }
  return reads;
}

function readsResourceTags(policies: EvaluatedPolicies): boolean {
  return [...policies.identityPolicies, ...(policies.resourcePolicy ? [policies.resourcePolicy] : []), ...(policies.permissionsBoundaries ?? []), ...(policies.sessionPolicies ?? [])].some(
    policyReadsResourceTags,
  );
}

function statementLabels(outcome: AuthorizationDecision): string[] {
  return outcome.matched.map((match) => `${match.policyId ?? 'policy'}#${match.sid ?? match.statementIndex + 1}`);
}

function tagRecord(tags: readonly Tag[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const tag of tags) record[tag.key] = tag.value;
  return record;
}
