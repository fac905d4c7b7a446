/**
 * ARNs use partition `aws` and the fixed local account, so policies written for
 * Kennel copy to AWS unchanged (DESIGN §4).
 */
export const ACCOUNT_ID = '000000000000';
export const DEFAULT_REGION = 'us-east-1';

export function userArn(userName: string): string {
  return `arn:aws:iam::${ACCOUNT_ID}:user/${userName}`;
}

/** The SageMaker resource types Kennel serves, as they appear in ARNs. */
export const SAGEMAKER_RESOURCE_TYPES = ['training-job', 'model', 'endpoint-config', 'endpoint', 'hyper-parameter-tuning-job'] as const;
export type SageMakerResourceType = (typeof SAGEMAKER_RESOURCE_TYPES)[number];

export function sageMakerArn(resourceType: SageMakerResourceType, name: string, region = DEFAULT_REGION): string {
  return `arn:aws:sagemaker:${region}:${ACCOUNT_ID}:${resourceType}/${name}`;
}

/** `arn:aws:sagemaker:us-east-1:000000000000:endpoint/x` → `{ resourceType: 'endpoint', name: 'x' }`; undefined if not one of ours. */
export function parseSageMakerArn(arn: string, region = DEFAULT_REGION): { resourceType: SageMakerResourceType; name: string } | undefined {
  const prefix = `arn:aws:sagemaker:${region}:${ACCOUNT_ID}:`;
  if (!arn.startsWith(prefix)) return undefined;
  const resource = arn.slice(prefix.length);
  const slash = resource.indexOf('/');
  if (slash <= 0) return undefined;
  const resourceType = resource.slice(0, slash);
  const name = resource.slice(slash + 1);
  if (!(SAGEMAKER_RESOURCE_TYPES as readonly string[]).includes(resourceType) || name === '' || name.includes('/')) return undefined;
  return { resourceType: resourceType as SageMakerResourceType, name };
}

export function roleArn(roleName: string): string {
  return `arn:aws:iam::${ACCOUNT_ID}:role/${roleName}`;
}

/** The role Kennel's own CLI and sample name where SageMaker requires a RoleArn and the user gave none. */
export const KENNEL_EXECUTION_ROLE_ARN = roleArn('KennelExecutionRole');

/** IAM ARNs carry the entity's path: `arn:aws:iam::000000000000:user/division/alice`. */
export function iamArn(kind: 'user' | 'group' | 'role' | 'policy', path: string, name: string): string {
  return `arn:aws:iam::${ACCOUNT_ID}:${kind}${path}${name}`;
}

/** A role session: `arn:aws:sts::000000000000:assumed-role/<role>/<session>` (the role's path is not part of it). */
export function assumedRoleArn(roleName: string, sessionName: string): string {
  return `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${roleName}/${sessionName}`;
}

/** The account itself, as policies name it in Principal. */
export const ACCOUNT_ROOT_ARN = `arn:aws:iam::${ACCOUNT_ID}:root`;

/** AWS managed policies live under this prefix, with their own paths. */
export const AWS_MANAGED_POLICY_PREFIX = 'arn:aws:iam::aws:policy/';
