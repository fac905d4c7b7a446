import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { DomainError } from '../../core/errors.ts';

/** Kennel's profile in the AWS shared-credentials file it writes. */
export const KENNEL_PROFILE = 'kennel';

export interface ProfileCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
}

/**
 * Writes the AWS shared-credentials INI file (mode 0600, atomically) so the AWS
 * CLI and SDKs can use it via AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE=kennel.
 */
export async function writeCredentialsFile(path: string, credentials: ProfileCredentials): Promise<void> {
  const lines = [
    `[${KENNEL_PROFILE}]`,
    `aws_access_key_id = ${credentials.accessKeyId}`,
    `aws_secret_access_key = ${credentials.secretAccessKey}`,
  ];
  if (credentials.region) lines.push(`region = ${credentials.region}`);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, lines.join('\n') + '\n', { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}

/** Reads one profile from an AWS shared-credentials INI file. */
export async function readCredentialsFile(path: string, profile = KENNEL_PROFILE): Promise<ProfileCredentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new DomainError('MissingAuthenticationToken', `No credentials file at ${path}; start the server once with \`kennel up\` to create it`);
  }
  const values = parseIniProfile(text, profile);
  const accessKeyId = values.get('aws_access_key_id');
  const secretAccessKey = values.get('aws_secret_access_key');
  if (!accessKeyId || !secretAccessKey) {
    throw new DomainError('MissingAuthenticationToken', `Profile [${profile}] in ${path} lacks aws_access_key_id or aws_secret_access_key`);
  }
  return { accessKeyId, secretAccessKey, region: values.get('region') };
}

function parseIniProfile(text: string, profile: string): Map<string, string> {
  const values = new Map<string, string>();
  let inProfile = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      inProfile = section[1] === profile;
      continue;
    }
    const pair = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (inProfile && pair) values.set(pair[1].trim().toLowerCase(), pair[2].trim());
  }
  return values;
}
