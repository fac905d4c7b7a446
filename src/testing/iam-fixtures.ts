import { ADMIN_USER, ADMINISTRATOR_ACCESS_ARN } from '../control/admin.ts';
import type { Platform } from '../control/platform.ts';
import type { TestCredentials } from './signed-fetch.ts';

export type { TestCredentials } from './signed-fetch.ts';

/** An IAM user with the given managed policies and an access key, for tests that call the API in-process. */
export function provisionUser(platform: Platform, userName: string, policyArns: readonly string[] = []): TestCredentials {
  if (!platform.deps.store.iamUsers.get(userName)) platform.iam.createUser({ userName });
  for (const arn of policyArns) platform.iam.identityPolicies.attach('user', userName, arn);
  const { key, secretAccessKey } = platform.iam.issueAccessKey(userName);
  return { accessKeyId: key.accessKeyId, secretAccessKey };
}

/** The admin user (AdministratorAccess) and a key for it. */
export function provisionAdmin(platform: Platform): TestCredentials {
  return provisionUser(platform, ADMIN_USER, [ADMINISTRATOR_ACCESS_ARN]);
}
