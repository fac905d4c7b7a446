import { DomainError } from '../core/errors.ts';
import type { AuditDecision } from '../domain/iam/entities.ts';
import { compilePolicy, PolicyCache, type CompiledPolicy } from '../domain/iam/compile-policy.ts';
import { evaluatePolicies, requestContextKeys, type AuthorizationRequest } from '../domain/iam/evaluate.ts';
import { parsePolicyDocument, type PolicyKind } from '../domain/iam/policy-document.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import type { Caller } from './credentials.ts';
import type { ControlDeps } from './deps.ts';
import type { IamService } from './iam.ts';

/** One permission a request needs: most need one, CreateTrainingJob also iam:PassRole on its role. */
export interface PermissionCheck {
  action: string;
  resource: string;
  /** Service-specific condition keys (`iam:PassedToService`, `sagemaker:InstanceTypes`, …). */
  context?: Readonly<Record<string, string | readonly string[]>>;
  /** The resource's own policy: a role's trust policy for sts:AssumeRole, a function's policy for Lambda. */
  resourcePolicy?: { label: string; document: string; kind: PolicyKind };
  /** aws:ResourceTag/* of the resource. */
  resourceTags?: readonly Tag[];
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

interface PolicySet {
  identity: CompiledPolicy[];
  boundaries: CompiledPolicy[];
  session: CompiledPolicy[];
  principalTags: Record<string, string>;
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
  readonly #compiled = new PolicyCache();
  readonly #sets = new Map<string, PolicySet>();
  #generation = -1;

  constructor(deps: ControlDeps, iam: IamService) {
    this.#deps = deps;
    this.#iam = iam;
  }

  /** Every check must be allowed; the first that is not decides. */
  authorize(caller: Caller, checks: readonly PermissionCheck[], facts: RequestFacts): AuthorizationResult {
    const set = this.#policySet(caller);
    const statements: string[] = [];
    for (const check of checks) {
      const request: AuthorizationRequest = {
        principal: {
          arn: caller.arn,
          accountId: caller.accountId,
          type: caller.type,
          userId: caller.userId,
          ...(caller.userName !== undefined && caller.type === 'User' ? { userName: caller.userName } : {}),
          tags: set.principalTags,
        },
        action: check.action,
        resource: check.resource,
        context: {
          ...requestContextKeys({
            principal: { arn: caller.arn, accountId: caller.accountId, userId: caller.userId, userName: caller.type === 'User' ? caller.userName : undefined, tags: set.principalTags },
            nowMs: facts.nowMs,
            sourceIp: facts.sourceIp,
            secureTransport: facts.secureTransport,
            region: facts.region,
            requestTags: tagRecord(facts.requestTags ?? []),
            resourceTags: tagRecord(check.resourceTags ?? []),
          }),
          ...check.context,
        },
      };
      const resourcePolicy = check.resourcePolicy ? this.#compile(check.resourcePolicy.label, check.resourcePolicy.document, check.resourcePolicy.kind) : undefined;
      const outcome = evaluatePolicies(
        {
          identityPolicies: set.identity,
          ...(resourcePolicy ? { resourcePolicy } : {}),
          ...(set.boundaries.length > 0 ? { permissionsBoundaries: set.boundaries } : {}),
          ...(set.session.length > 0 ? { sessionPolicies: set.session } : {}),
        },
        request,
      );
      const labels = outcome.matched.map((match) => `${match.policyId ?? 'policy'}#${match.sid ?? match.statementIndex + 1}`);
      if (outcome.decision !== 'Allow') return { decision: outcome.decision, refused: check, statements: labels };
      statements.push(...labels);
    }
    return { decision: 'Allow', statements };
  }

  #policySet(caller: Caller): PolicySet {
    if (this.#generation !== this.#iam.generation) {
      this.#sets.clear();
      this.#generation = this.#iam.generation;
    }
    let set = this.#sets.get(caller.accessKeyId);
    if (!set) {
      set = this.#load(caller);
      this.#sets.set(caller.accessKeyId, set);
    }
    return set;
  }

  #load(caller: Caller): PolicySet {
    const { store } = this.#deps;
    const identity: CompiledPolicy[] = [];
    const boundaries: CompiledPolicy[] = [];
    let principalTags: Record<string, string> = {};
    const addManaged = (arns: readonly string[]) => {
      for (const arn of arns) {
        const document = this.#iam.policies.defaultDocument(arn);
        if (document !== undefined) identity.push(this.#compile(arn, document, 'identity'));
      }
    };
    const addInline = (owner: string, inline: Readonly<Record<string, string>>) => {
      for (const [name, document] of Object.entries(inline)) identity.push(this.#compile(`${owner}/inline/${name}`, document, 'identity'));
    };
    const addBoundary = (arn: string | undefined) => {
      const document = arn === undefined ? undefined : this.#iam.policies.defaultDocument(arn);
      // A boundary whose policy is gone allows nothing, rather than lifting the boundary.
      if (arn !== undefined) boundaries.push(this.#compile(`${arn} (boundary)`, document ?? '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}', 'identity'));
    };
    if (caller.roleName !== undefined) {
      const role = store.iamRoles.get(caller.roleName);
      if (role) {
        addInline(role.arn, role.inlinePolicies);
        addManaged(role.attachedPolicyArns);
        addBoundary(role.permissionsBoundaryArn);
        principalTags = tagRecord(mergeTags(role.tags, caller.sessionTags));
      }
    } else if (caller.userName !== undefined) {
      const user = store.iamUsers.get(caller.userName);
      if (user) {
        addInline(user.arn, user.inlinePolicies);
        addManaged(user.attachedPolicyArns);
        for (const groupName of user.groupNames) {
          const group = store.iamGroups.get(groupName);
          if (!group) continue;
          addInline(group.arn, group.inlinePolicies);
          addManaged(group.attachedPolicyArns);
        }
        addBoundary(user.permissionsBoundaryArn);
        principalTags = tagRecord(user.tags);
      }
    }
    const session = caller.sessionPolicy !== undefined ? [this.#compile(`${caller.arn} (session policy)`, caller.sessionPolicy, 'identity')] : [];
    return { identity, boundaries, session, principalTags };
  }

  #compile(label: string, document: string, kind: PolicyKind): CompiledPolicy {
    const key = `${kind}\n${label}\n${document}`;
    const cached = this.#compiled.get(key);
    if (cached) return cached;
    try {
      const compiled = compilePolicy(parsePolicyDocument(document, kind), label);
      this.#compiled.set(key, compiled);
      return compiled;
    } catch (error) {
      // Stored policies were checked when written; one that no longer compiles is a bug, not the caller's fault.
      throw new DomainError('Internal', `Policy ${label} could not be compiled: ${(error as Error).message}`);
    }
  }
}

function tagRecord(tags: readonly Tag[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const tag of tags) record[tag.key] = tag.value;
  return record;
}
