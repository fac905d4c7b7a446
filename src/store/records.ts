import { DomainError } from '../core/errors.ts';

/**
 * Semantics every Store implementation shares, kept in one place so the
 * in-memory and SQLite stores cannot drift apart in their errors or in how an
 * update merges.
 */

/** Human names of the record kinds, as they appear in error messages. */
export const RECORD_KINDS = {
  datasets: 'Dataset',
  trainingJobs: 'Training job',
  tuningJobs: 'Hyperparameter tuning job',
  models: 'Model',
  endpointConfigs: 'Endpoint config',
  endpoints: 'Endpoint',
  accessKeys: 'Access key',
  scalableTargets: 'Scalable target',
  scalingPolicies: 'Scaling policy',
  scalingActivities: 'Scaling activity',
  iamUsers: 'User',
  iamGroups: 'Group',
  iamRoles: 'Role',
  iamPolicies: 'Policy',
  stsSessions: 'Session',
  auditEvents: 'Audit event',
  lambdaFunctions: 'Function',
  functionVersions: 'Function version',
  functionAliases: 'Alias',
  asyncEvents: 'Asynchronous invocation',
} as const;

export type RecordKind = (typeof RECORD_KINDS)[keyof typeof RECORD_KINDS];

export function alreadyExists(kind: RecordKind, key: string): DomainError {
  return new DomainError(
    'AlreadyExists',
    `${kind} ${JSON.stringify(key)} already exists: choose another name or delete the existing one first`,
    { kind, name: key },
  );
}

export function notFound(kind: RecordKind, key: string): DomainError {
  return new DomainError('NotFound', `${kind} ${JSON.stringify(key)} does not exist`, { kind, name: key });
}

/** The record's key (its name, or an access key id), refused unless it is a non-empty string. */
export function recordKey<T extends object>(kind: RecordKind, keyField: keyof T & string, record: T): string {
  const key = record[keyField];
  if (typeof key !== 'string' || key.length === 0) {
    throw new DomainError('ValidationError', `${kind} record needs a non-empty string ${keyField}`, { field: keyField });
  }
  return key;
}

/**
 * Drops top-level keys whose value is undefined. JSON storage drops them
 * anyway; doing it everywhere makes "set a field to undefined" mean "remove
 * it" in every implementation.
 */
export function withoutUndefined<T extends object>(record: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

/**
 * The record an update produces: `patch` shallowly merged over `existing`.
 * The key cannot change, because callers and other records refer to it.
 */
export function mergePatch<T extends object>(
  kind: RecordKind,
  keyField: keyof T & string,
  existing: T,
  patch: Partial<T>,
): T {
  const newKey = patch[keyField];
  if (newKey !== undefined && newKey !== existing[keyField]) {
    throw new DomainError(
      'ValidationError',
      `${kind} ${JSON.stringify(existing[keyField])} cannot be renamed to ${JSON.stringify(newKey)}: create a new one instead`,
      { field: keyField },
    );
  }
  return withoutUndefined({ ...existing, ...patch, [keyField]: existing[keyField] });
}

/** Refuses a modify whose result carries another key than the record it replaces. */
export function assertKeyKept<T extends object>(kind: RecordKind, keyField: keyof T & string, key: string, next: T): void {
  if (next[keyField] !== key) {
    throw new DomainError(
      'ValidationError',
      `${kind} ${JSON.stringify(key)} cannot be renamed to ${JSON.stringify(next[keyField])}: create a new one instead`,
      { field: keyField },
    );
  }
}

/** Orders keys by UTF-16 code unit, which matches SQLite's BINARY collation for the ASCII names Kennel allows. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
