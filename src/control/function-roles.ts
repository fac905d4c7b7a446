import { DomainError } from '../core/errors.ts';
import type { LambdaFunction } from '../domain/functions/function.ts';
import { DEFAULT_REGION } from '../domain/iam/arn.ts';
import type { Authorizer } from './authorizer.ts';
import type { IamService } from './iam.ts';
import type { StsService, TemporaryCredentials } from './sts.ts';

export const LAMBDA_SERVICE_PRINCIPAL = 'lambda.amazonaws.com';

/**
 * Execution roles: whether Lambda may assume a role (its trust policy names
 * lambda.amazonaws.com), the temporary credentials each execution environment
 * gets from assuming it, and what Lambda itself may do as the role (send an
 * invocation record to a destination).
 */
export class ExecutionRoles {
  readonly #iam: IamService;
  readonly #sts: StsService;
  readonly #authorizer: Authorizer;
  readonly #now: () => number;

  constructor(iam: IamService, sts: StsService, authorizer: Authorizer, now: () => number) {
    this.#iam = iam;
    this.#sts = sts;
    this.#authorizer = authorizer;
    this.#now = now;
  }

  /** Refuses a role that does not exist or does not trust Lambda, with Lambda's message. */
  check(roleArn: string): void {
    const role = this.#iam.findRoleByArn(roleArn);
    const refused = () => new DomainError('ValidationError', 'The role defined for the function cannot be assumed by Lambda.', { field: 'Role', roleArn });
    if (!role) throw refused();
    const trust = this.#authorizer.compile(`${role.arn} trust policy`, role.assumeRolePolicyDocument, 'trust');
    const decision = this.#authorizer.evaluate(
      { identityPolicies: [], resourcePolicy: trust, resourcePolicyRequired: true },
      { arn: LAMBDA_SERVICE_PRINCIPAL, accountId: '', type: 'Service' },
      { action: 'sts:AssumeRole', resource: role.arn },
      { nowMs: this.#now(), sourceIp: '127.0.0.1', secureTransport: false, region: DEFAULT_REGION },
    );
    if (decision.decision !== 'Allow') throw refused();
  }

  /**
   * Whether the role may call lambda:InvokeFunction on `resource` (the ARN of
   * `target`, or of one of its versions or aliases): its own policies within
   * its boundary, with the target's resource-based policy. Lambda asks this, as
   * the function's role, before it sends an invocation record to a destination.
   */
  mayInvoke(roleArn: string, resource: string, target: Pick<LambdaFunction, 'arn' | 'policy'>): boolean {
    const found = this.#authorizer.policiesOfPrincipal(roleArn);
    if (!found) return false;
    const resourcePolicy = target.policy === undefined ? undefined : this.#authorizer.compile(`${target.arn} (resource-based policy)`, target.policy, 'resource');
    const decision = this.#authorizer.evaluate(
      {
        identityPolicies: found.identity,
        ...(found.boundaries.length > 0 ? { permissionsBoundaries: found.boundaries } : {}),
        ...(resourcePolicy ? { resourcePolicy } : {}),
      },
      found.principal,
      { action: 'lambda:InvokeFunction', resource },
      { nowMs: this.#now(), sourceIp: '127.0.0.1', secureTransport: true, region: DEFAULT_REGION },
    );
    return decision.decision === 'Allow';
  }

  /** The role's credentials for one execution environment, for as long as the role allows a session. */
  credentials(roleArn: string, functionName: string): TemporaryCredentials {
    this.check(roleArn);
    return this.#sts.assumeRoleAsService(roleArn, functionName);
  }
}
