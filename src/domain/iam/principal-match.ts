import { DomainError } from '../../core/errors.ts';
import type { PrincipalSpec } from './policy-document.ts';
import { assumedRoleName, type AuthorizationPrincipal } from './request-context.ts';

/**
 * The Principal and NotPrincipal elements of resource and trust policies
 * (IAM User Guide, "AWS JSON policy elements: Principal" and "NotPrincipal"),
 * compiled into sets so that matching a caller is a few lookups.
 *
 * - `"*"` and `{"AWS": "*"}`: everyone.
 * - an account (`123456789012` or `arn:aws:iam::123456789012:root`): every
 *   principal of that account.
 * - a user, role session or federated user ARN: that principal.
 * - a role ARN: the role's sessions (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`,
 *   which carries the role's name but not its path).
 * - `{"Service": "lambda.amazonaws.com"}`: that service.
 *
 * How directly a statement names the caller matters (evaluate.ts says how):
 * naming the account delegates to the account's own policies, and a
 * permissions boundary or a session policy limits all but direct names.
 */
export type PrincipalMatch = 'direct' | 'role' | 'account' | 'indirect';

/** The caller's identities as Principal matching sees them, worked out once per request. */
export interface Caller {
  readonly arn: string;
  readonly accountId: string;
  readonly type: string;
  /** `ACCOUNT:ROLE` for a role session or a role, so that a role ARN in a policy matches it. */
  readonly roleKey?: string;
}

export function callerOf(principal: AuthorizationPrincipal): Caller {
  let role: string | undefined;
  if (principal.type === 'AssumedRole') role = assumedRoleName(principal.arn);
  else if (principal.type === 'Role') role = lastPathSegment(principal.arn);
  return role === undefined
    ? { arn: principal.arn, accountId: principal.accountId, type: principal.type }
    : { arn: principal.arn, accountId: principal.accountId, type: principal.type, roleKey: `${principal.accountId}:${role}` };
}

export interface CompiledPrincipal {
  /** Principal: whether (and how directly) the element names the caller. */
  match(caller: Caller): PrincipalMatch | undefined;
  /**
   * NotPrincipal: whether the element lists every identity the caller acts
   * as, which is what it takes to be left out. AWS: with NotPrincipal "you
   * must also specify the account ARN of the not-denied principal", and for a
   * role session the role's ARN and the session's; otherwise the statement
   * still applies to the caller through the identity that was not listed.
   */
  covers(caller: Caller): boolean;
}

const ACCOUNT_ID = /^\d{12}$/;

export function compilePrincipal(spec: PrincipalSpec, label: string, element: string): CompiledPrincipal {
  let everyone = spec === '*';
  const accounts = new Set<string>();
  const arns = new Set<string>();
  const roles = new Set<string>();
  const services = new Set<string>();
  const others = new Set<string>();
  if (spec !== '*') {
    for (const value of spec.AWS ?? []) {
      if (value === '*') {
        everyone = true;
        continue;
      }
      if (value.includes('*') || value.includes('?')) {
        throw new DomainError(
          'MalformedPolicyDocument',
          `${label} has ${element} ${JSON.stringify(value)}: a principal cannot be partly wildcarded; name it, or use "*" with a condition on aws:PrincipalArn`,
        );
      }
      if (ACCOUNT_ID.test(value)) {
        accounts.add(value);
        continue;
      }
      const parts = value.split(':');
      if (parts[0] === 'arn' && parts.length >= 6 && parts[2] === 'iam') {
        const resource = parts.slice(5).join(':');
        if (resource === 'root') {
          accounts.add(parts[4]);
          continue;
        }
        if (resource.startsWith('role/')) roles.add(`${parts[4]}:${lastPathSegment(resource)}`);
      }
      arns.add(value);
    }
    for (const value of spec.Service ?? []) services.add(value.toLowerCase());
    for (const value of [...(spec.Federated ?? []), ...(spec.CanonicalUser ?? [])]) others.add(value);
  }

  return {
    match(caller) {
      if (caller.type === 'Service') return everyone || services.has(caller.arn.toLowerCase()) ? 'direct' : undefined;
      if (arns.has(caller.arn) || others.has(caller.arn)) return caller.type === 'Role' ? 'role' : 'direct';
      if (caller.roleKey !== undefined && roles.has(caller.roleKey)) return 'role';
      if (accounts.has(caller.accountId)) return caller.type === 'Root' ? 'direct' : 'account';
      return everyone ? 'indirect' : undefined;
    },
    covers(caller) {
      if (everyone) return true;
      switch (caller.type) {
        case 'Service':
          return services.has(caller.arn.toLowerCase());
        case 'Root':
          return accounts.has(caller.accountId);
        case 'AssumedRole':
          return arns.has(caller.arn) && caller.roleKey !== undefined && roles.has(caller.roleKey) && accounts.has(caller.accountId);
        default:
          return (arns.has(caller.arn) || others.has(caller.arn)) && accounts.has(caller.accountId);
      }
    },
  };
}

function lastPathSegment(text: string): string {
  return text.slice(text.lastIndexOf('/') + 1);
}

/**
 * A principal from its ARN alone, as offline simulations name callers:
 * users, role sessions, roles, federated users, account roots, and service
 * principals (`lambda.amazonaws.com`). Undefined for anything else.
 */
export function principalFromArn(arn: string): AuthorizationPrincipal | undefined {
  if (/^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(arn)) return { arn, accountId: '', type: 'Service' };
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' || parts[1] === '' || !ACCOUNT_ID.test(parts[4])) return undefined;
  const [, , service, , accountId] = parts;
  const resource = parts.slice(5).join(':');
  if (service === 'iam' && resource === 'root') return { arn, accountId, type: 'Root' };
  if (service === 'iam' && /^user\/(.+\/)?[^/]+$/.test(resource)) return { arn, accountId, type: 'User', userName: lastPathSegment(resource) };
  if (service === 'iam' && /^role\/(.+\/)?[^/]+$/.test(resource)) return { arn, accountId, type: 'Role' };
  if (service === 'sts' && /^assumed-role\/[^/]+\/[^/]+$/.test(resource)) return { arn, accountId, type: 'AssumedRole' };
  if (service === 'sts' && /^federated-user\/[^/]+$/.test(resource)) return { arn, accountId, type: 'FederatedUser' };
  return undefined;
}
