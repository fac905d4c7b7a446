import { DomainError } from '../core/errors.ts';
import { DEFAULT_REGION } from '../domain/iam/arn.ts';
import type { Authorizer } from './authorizer.ts';
import type { IamService } from './iam.ts';
import type { StsService, TemporaryCredentials } from './sts.ts';

export const LAMBDA_SERVICE_PRINCIPAL = 'lambda.amazonaws.com';

/**
 * Execution roles: whether Lambda may assume a role (its trust policy names
 * lambda.amazonaws.com), and the temporary credentials each execution
 * environment gets from assuming it.
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

  /** The role's credentials for one execution environment, for as long as the role allows a session. */
  credentials(roleArn: string, functionName: string): TemporaryCredentials {
    this.check(roleArn);
    return this.#sts.assumeRoleAsService(roleArn, functionName);
  }
}
