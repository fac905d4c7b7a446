import { ACCOUNT_ID } from '../domain/iam/arn.ts';
import type { AuditEvent } from '../domain/iam/entities.ts';
import { suggestPolicy, unusedPermissions, type PolicySuggestion, type UnusedPermission, type UsageRecord } from '../domain/iam/least-privilege.ts';
import { DomainError } from '../core/errors.ts';
import type { AuditTrail } from './audit.ts';
import type { Authorizer } from './authorizer.ts';

/** Actions every signed caller may call whatever its policies: a policy need not grant them. */
const UNCONDITIONAL_ACTIONS = new Set(['sts:getcalleridentity', 'sts:getsessiontoken']);

/**
 * Least privilege from the audit trail: what a principal actually did in a
 * window, as the minimal policy for it, and what it holds but never used. A
 * role's use is its sessions' use.
 */
export class PrincipalUsage {
  readonly #audit: AuditTrail;
  readonly #authorizer: Authorizer;

  constructor(audit: AuditTrail, authorizer: Authorizer) {
    this.#audit = audit;
    this.#authorizer = authorizer;
  }

  records(principalArn: string, fromMs: number): UsageRecord[] {
    const role = /^arn:aws:iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(principalArn);
    const events = this.#audit.query(role ? { principalArnPrefix: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role[1]}/`, fromMs } : { principalArn, fromMs });
    return events.flatMap(usageOf);
  }

  suggest(principalArn: string, fromMs: number): PolicySuggestion {
    return suggestPolicy(this.records(principalArn, fromMs));
  }

  unused(principalArn: string, fromMs: number): UnusedPermission[] {
    const found = this.#authorizer.policiesOfPrincipal(principalArn);
    if (!found) throw new DomainError('NotFound', `No user, group or role has the ARN ${principalArn}`, { principalArn });
    const policies = found.identity.map((policy) => ({ ...(policy.policyId !== undefined ? { label: policy.policyId } : {}), document: policy.document }));
    return unusedPermissions(policies, this.records(principalArn, fromMs));
  }
}

/** The permissions a recorded request was decided on; requests that never reached a decision name no resource and are left out. */
function usageOf(event: AuditEvent): UsageRecord[] {
  if (event.resource === '' || UNCONDITIONAL_ACTIONS.has(event.action.toLowerCase())) return [];
  const primary = { action: event.action, resource: event.resource, decision: event.decision, timeMs: event.timeMs };
  return [primary, ...(event.alsoAuthorized ?? []).map((check) => ({ ...check, decision: event.decision, timeMs: event.timeMs }))];
}
