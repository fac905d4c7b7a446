import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AccessKey } from '../store/store.ts';
import { writeCredentialsFile } from '../runtime/credentials/credentials-file.ts';
import type { ControlDeps } from './deps.ts';
import { userArn } from '../domain/iam/arn.ts';

export const ADMIN_USER = 'admin';

/**
 * First start creates the admin user's access key and writes it to the
 * credentials file; later starts keep the key and rewrite the file only if it
 * was removed. Returns the admin key and whether it was created now.
 */
export async function ensureAdminCredentials(
  deps: ControlDeps,
  credentialsFile: string,
): Promise<{ key: AccessKey; created: boolean }> {
  const existing = deps.store.accessKeys.listForUser(ADMIN_USER)[0];
  if (existing) {
    if (!existsSync(credentialsFile)) await writeCredentialsFile(credentialsFile, existing);
    return { key: existing, created: false };
  }
  const key: AccessKey = {
    // AWS shape: 20 upper-case characters starting with AKIA, a 40-character secret.
    accessKeyId: 'AKIA' + randomBytes(10).toString('hex').toUpperCase().slice(0, 16),
    secretAccessKey: randomBytes(30).toString('base64').replace(/[+/=]/g, 'x').slice(0, 40),
    userName: ADMIN_USER,
    createdAtMs: deps.clock.now(),
  };
  deps.store.accessKeys.create(key);
  await writeCredentialsFile(credentialsFile, key);
  return { key, created: true };
}

/** SigV4 secret lookup over the store's access keys. */
export function secretLookup(deps: ControlDeps) {
  return (accessKeyId: string) => {
    const key = deps.store.accessKeys.get(accessKeyId);
    return key ? { secretAccessKey: key.secretAccessKey, principal: userArn(key.userName) } : undefined;
  };
}
