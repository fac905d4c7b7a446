import { existsSync } from 'node:fs';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import type { AccessKey } from '../domain/iam/entities.ts';
import { writeCredentialsFile } from '../runtime/credentials/credentials-file.ts';
import type { ControlDeps } from './deps.ts';
import type { IamService } from './iam.ts';

export const ADMIN_USER = 'admin';
export const ADMINISTRATOR_ACCESS_ARN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const SAGEMAKER_FULL_ACCESS_ARN = 'arn:aws:iam::aws:policy/AmazonSageMakerFullAccess';

/** The role Kennel's CLI and sample pass as RoleArn: trusted by SageMaker, with SageMaker's managed policy. */
const EXECUTION_ROLE_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

export interface AdminCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * First start creates the admin user (with AdministratorAccess), its access
 * key and the credentials file, and the execution role the CLI names; later
 * starts keep them and rewrite the file only if it was removed. State from a
 * Kennel that stored secrets in the clear is sealed here.
 */
export async function ensureAdminCredentials(
  deps: ControlDeps,
  iam: IamService,
  credentialsFile: string,
): Promise<{ key: AdminCredentials; created: boolean }> {
  sealLegacySecrets(deps);
  if (!deps.store.iamUsers.get(ADMIN_USER)) iam.createUser({ userName: ADMIN_USER });
  if (!deps.store.iamUsers.get(ADMIN_USER)!.attachedPolicyArns.includes(ADMINISTRATOR_ACCESS_ARN)) {
    iam.identityPolicies.attach('user', ADMIN_USER, ADMINISTRATOR_ACCESS_ARN);
  }
  if (!iam.findRoleByArn(KENNEL_EXECUTION_ROLE_ARN)) {
    const roleName = KENNEL_EXECUTION_ROLE_ARN.slice(KENNEL_EXECUTION_ROLE_ARN.lastIndexOf('/') + 1);
    iam.createRole({ roleName, assumeRolePolicyDocument: EXECUTION_ROLE_TRUST, description: 'The role Kennel passes to training jobs and models by default' });
    iam.identityPolicies.attach('role', roleName, SAGEMAKER_FULL_ACCESS_ARN);
  }
  const existing = deps.store.accessKeys.listForUser(ADMIN_USER)[0];
  if (existing) {
    const key = { accessKeyId: existing.accessKeyId, secretAccessKey: deps.secrets.open(existing.sealedSecret) };
    if (!existsSync(credentialsFile)) await writeCredentialsFile(credentialsFile, key);
    return { key, created: false };
  }
  const { key, secretAccessKey } = iam.issueAccessKey(ADMIN_USER);
  const credentials = { accessKeyId: key.accessKeyId, secretAccessKey };
  await writeCredentialsFile(credentialsFile, credentials);
  return { key: credentials, created: true };
}

/** Keys stored before secrets were sealed hold `secretAccessKey` in the clear: seal it and drop the clear copy. */
function sealLegacySecrets(deps: ControlDeps): void {
  for (const key of deps.store.accessKeys.list() as (AccessKey & { secretAccessKey?: string })[]) {
    if (key.sealedSecret !== undefined || key.secretAccessKey === undefined) continue;
    const plain = key.secretAccessKey;
    deps.store.accessKeys.modify(key.accessKeyId, ({ secretAccessKey: _clear, ...rest }: AccessKey & { secretAccessKey?: string }) => ({
      ...rest,
      status: 'Active',
      sealedSecret: deps.secrets.seal(plain),
    }));
  }
}
