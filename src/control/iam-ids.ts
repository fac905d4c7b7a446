import { createHash, randomBytes } from 'node:crypto';
import { DomainError } from '../core/errors.ts';

const UNIQUE_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** IAM's unique ids: a four-letter type prefix (AIDA user, AGPA group, AROA role, ANPA policy, AKIA/ASIA keys) and upper-case characters. */
export function uniqueId(prefix: string, length = 21): string {
  const bytes = randomBytes(length - prefix.length);
  let id = prefix;
  for (const byte of bytes) id += UNIQUE_ID_ALPHABET[byte % UNIQUE_ID_ALPHABET.length];
  return id;
}

/** An id of the same form that is the same for the same seed. */
export function stableId(prefix: string, seed: string, length = 21): string {
  const digest = createHash('sha256').update(seed).digest();
  let id = prefix;
  for (let i = 0; id.length < length; i++) id += UNIQUE_ID_ALPHABET[digest[i]! % UNIQUE_ID_ALPHABET.length];
  return id;
}

/** A 40-character secret access key, of the characters AWS's use. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').slice(0, 40);
}

/** Paths begin and end with `/` (IAM: "Path"); the service model's pattern has already checked the characters. */
export function checkedPath(path: string | undefined): string {
  const value = path ?? '/';
  if (!value.startsWith('/') || !value.endsWith('/')) {
    throw new DomainError('ValidationError', `The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.`, {
      field: 'Path',
    });
  }
  return value;
}

