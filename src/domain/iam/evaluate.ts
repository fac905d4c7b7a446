import type { CompiledPolicy, CompiledStatement, StatementRef } from './compile-policy.ts';
import { callerOf, type Caller, type PrincipalMatch } from './principal-match.ts';
import { toConditionContext, type AuthorizationPrincipal, type ConditionContext, type ContextInput } from './request-context.ts';

export type { AuthorizationPrincipal, ContextInput, ContextValue } from './request-context.ts';
export { ConditionContext, requestContextKeys, toConditionContext, type RequestFacts } from './request-context.ts';

/**
 * The decision for one request, within one account, as the IAM User Guide's
 * "Policy evaluation logic" lays it out:
 *
 * 1. An explicit Deny in any policy that applies (identity, resource,
 *    permissions boundary, session) wins.
 * 2. Otherwise the request is allowed when an identity policy allows it, and
 *    the permissions boundary (when the principal has one) and the session
 *    policies (when the session has some) allow it too;
 * 3. or when the resource policy allows it to a Principal that names the
 *    caller: within an account that is enough without any identity policy.
 *    How a boundary or session policy limits it depends on how the caller is
 *    named ("Permissions boundaries for IAM entities", "Session policies"):
 *    - an IAM user's ARN, or a role session's ARN: not limited by an implicit
 *      deny in the boundary or the session policies;
 *    - a role's ARN (matching its sessions): limited by both;
 *    - everyone (`"*"`): limited by both;
 *    - the account (`ACCOUNT` or `arn:aws:iam::ACCOUNT:root`): not a grant on
 *      its own; the account delegates to its identity policies ("How IAM
 *      roles differ from resource-based policies"; a trust policy naming the
 *      account lets in only those whose identity policies allow sts:AssumeRole).
 * 4. Otherwise the implicit deny.
 *
 * Cross-account access (where both sides must allow) is not modelled: Kennel
 * has one account.
 */

export interface AuthorizationRequest {
  principal: AuthorizationPrincipal;
  /** `sagemaker:InvokeEndpoint`; compared case-insensitively. */
  action: string;
  /** The resource's ARN, or `*` for actions that act on no resource. */
  resource: string;
  /** Condition keys; build them with requestContextKeys so that every caller fills them alike. */
  context: ContextInput;
}

export interface PolicySet {
  identityPolicies: readonly CompiledPolicy[];
  resourcePolicy?: CompiledPolicy;
  /** The principal's permissions boundary, in force when given (several are read as one: any of them allowing is enough). */
  permissionsBoundaries?: readonly CompiledPolicy[];
  /** The session policies of a role session, in force when given (read as one, like the boundary). */
  sessionPolicies?: readonly CompiledPolicy[];
  /**
   * The resource policy must allow, whatever the identity policies say: a
   * role's trust policy for sts:AssumeRole ("a role trust policy is required"),
   * where naming the account still needs the caller's identity policy too.
   */
  resourcePolicyRequired?: boolean;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export interface AuthorizationDecision {
  decision: Decision;
  /** The statements that decided: every denying one for ExplicitDeny, the granting ones for Allow, none for ImplicitDeny. */
  matched: readonly StatementRef[];
}

const NO_STATEMENTS: readonly StatementRef[] = Object.freeze([]);
const IMPLICIT_DENY: AuthorizationDecision = Object.freeze({ decision: 'ImplicitDeny', matched: NO_STATEMENTS });

/** What every statement test reads, worked out once per request. */
interface Subject {
  readonly action: string;
  readonly resource: string;
  readonly context: ConditionContext;
  readonly caller: Caller | undefined;
}

export function evaluatePolicies(policies: PolicySet, request: AuthorizationRequest): AuthorizationDecision {
  const subject: Subject = {
    action: request.action.toLowerCase(),
    resource: request.resource,
    context: toConditionContext(request.context),
    caller: policies.resourcePolicy === undefined ? undefined : callerOf(request.principal),
  };
  const denies: StatementRef[] = [];
  let identityAllows: StatementRef[] | undefined;
  for (const policy of policies.identityPolicies) {
    for (const statement of policy.statements) {
      if (!applies(statement, subject)) continue;
      if (statement.effect === 'Deny') denies.push(statement.ref);
      else (identityAllows ??= []).push(statement.ref);
    }
  }
  const boundaries = policies.permissionsBoundaries;
  const boundaryAllows = boundaries === undefined || boundaries.length === 0 || scanGate(boundaries, subject, denies);
  const sessions = policies.sessionPolicies;
  const sessionAllows = sessions === undefined || sessions.length === 0 || scanGate(sessions, subject, denies);
  const gatesAllow = boundaryAllows && sessionAllows;

  let resourceGrants: StatementRef[] | undefined;
  let accountGrants: StatementRef[] | undefined;
  if (policies.resourcePolicy !== undefined) {
    for (const statement of policies.resourcePolicy.statements) {
      const named = principalMatch(statement, subject.caller!);
      if (named === undefined || !applies(statement, subject)) continue;
      if (statement.effect === 'Deny') denies.push(statement.ref);
      // Naming the account grants nothing by itself: the account's identity policies must allow as well.
      else if (named === 'account') (accountGrants ??= []).push(statement.ref);
      else if (named === 'direct' || gatesAllow) (resourceGrants ??= []).push(statement.ref);
    }
  }

  if (denies.length > 0) return { decision: 'ExplicitDeny', matched: denies };
  const viaIdentity = identityAllows !== undefined && gatesAllow;
  if (policies.resourcePolicyRequired) {
    if (resourceGrants !== undefined) return { decision: 'Allow', matched: resourceGrants };
    if (accountGrants !== undefined && viaIdentity) return { decision: 'Allow', matched: [...identityAllows!, ...accountGrants] };
    return IMPLICIT_DENY;
  }
  if (!viaIdentity && resourceGrants === undefined) return IMPLICIT_DENY;
  const matched = viaIdentity ? (resourceGrants === undefined ? identityAllows! : [...identityAllows!, ...resourceGrants]) : resourceGrants!;
  return { decision: 'Allow', matched };
}

/** A boundary or the session policies: records their denies, answers whether any statement allows. */
function scanGate(policies: readonly CompiledPolicy[], subject: Subject, denies: StatementRef[]): boolean {
  let allows = false;
  for (const policy of policies) {
    for (const statement of policy.statements) {
      if (!applies(statement, subject)) continue;
      if (statement.effect === 'Deny') denies.push(statement.ref);
      else allows = true;
    }
  }
  return allows;
}

/** How a resource-policy statement names the caller; undefined when it does not apply to them. */
function principalMatch(statement: CompiledStatement, caller: Caller): PrincipalMatch | undefined {
  const { principal } = statement;
  if (principal === undefined) return undefined;
  if (statement.principalNegated) return principal.covers(caller) ? undefined : 'indirect';
  return principal.match(caller);
}

/** Action, resource and conditions, cheapest first. */
function applies(statement: CompiledStatement, subject: Subject): boolean {
  const { context } = subject;
  if (statement.action(subject.action, context) === statement.actionNegated) return false;
  if (statement.resource !== undefined && statement.resource(subject.resource, context) === statement.resourceNegated) return false;
  for (const condition of statement.conditions) if (!condition.evaluate(context)) return false;
  return true;
}
