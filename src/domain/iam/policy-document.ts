import { DomainError } from '../../core/errors.ts';

/**
 * IAM policy JSON as AWS's grammar defines it (IAM User Guide, "IAM JSON policy
 * element reference" and "Grammar of the IAM JSON policy language"), parsed into
 * one normalised shape: every element that may be a string or a list is a list,
 * condition values are strings (AWS compares numbers and booleans by their text),
 * and what was written keeps its spelling so findings can quote it.
 */

export const POLICY_VERSIONS = ['2012-10-17', '2008-10-17'] as const;
export type PolicyVersion = (typeof POLICY_VERSIONS)[number];

export type Effect = 'Allow' | 'Deny';

/** `"Principal": "*"` is everyone; otherwise principals by kind (`AWS`, `Service`, `Federated`, `CanonicalUser`). */
export type PrincipalSpec = '*' | Readonly<Partial<Record<PrincipalKind, readonly string[]>>>;
export const PRINCIPAL_KINDS = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

/** One `"Operator": { "key": values }` pair of a Condition block, e.g. `ForAnyValue:StringLikeIfExists`. */
export interface ConditionClause {
  /** As written, qualifier and IfExists included. */
  operator: string;
  key: string;
  values: readonly string[];
}

export interface Statement {
  sid?: string;
  effect: Effect;
  principal?: PrincipalSpec;
  notPrincipal?: PrincipalSpec;
  action?: readonly string[];
  notAction?: readonly string[];
  resource?: readonly string[];
  notResource?: readonly string[];
  conditions: readonly ConditionClause[];
}

export interface PolicyDocument {
  /** 2008-10-17 when the document names none: AWS then treats `${...}` literally. */
  version: PolicyVersion;
  /** Whether the document named its version; an unversioned policy is worth a finding. */
  versionGiven: boolean;
  id?: string;
  statements: readonly Statement[];
}

/**
 * Where a policy is used decides which elements it must and must not have:
 * identity policies (and permission boundaries) name no Principal; resource
 * policies must; trust policies (a role's AssumeRolePolicyDocument) need a
 * Principal and name no Resource.
 */
export type PolicyKind = 'identity' | 'resource' | 'trust';

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const DOCUMENT_KEYS = new Set(['Version', 'Id', 'Statement']);
/** `service:Action`, either part possibly wildcarded; or `*` alone. */
const ACTION_PATTERN = /^(\*|[a-zA-Z0-9*?-]+:[a-zA-Z0-9*?]+)$/;

function malformed(message: string, details: Record<string, unknown> = {}): DomainError {
  return new DomainError('MalformedPolicyDocument', message, details);
}

/**
 * Parses a policy from its JSON text (or an already-parsed value). Throws
 * DomainError('MalformedPolicyDocument') naming the first problem, in the
 * terms of the element reference ("Statement 2 (Sid ReadOnly) has no Effect").
 */
export function parsePolicyDocument(source: string | unknown, kind: PolicyKind = 'identity'): PolicyDocument {
  let value = source;
  if (typeof source === 'string') {
    try {
      value = JSON.parse(source);
    } catch (error) {
      throw malformed(`The policy is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (!isObject(value)) throw malformed('The policy must be a JSON object with Version and Statement');
  for (const key of Object.keys(value)) {
    if (!DOCUMENT_KEYS.has(key)) throw malformed(`The policy has an unknown element ${key}; a policy has Version, Id and Statement`);
  }
  const versionGiven = value.Version !== undefined;
  if (versionGiven && !(POLICY_VERSIONS as readonly unknown[]).includes(value.Version)) {
    throw malformed(`The policy's Version ${JSON.stringify(value.Version)} is not one of ${POLICY_VERSIONS.join(', ')}; use 2012-10-17`);
  }
  if (value.Id !== undefined && typeof value.Id !== 'string') throw malformed('The policy Id must be a string');
  const rawStatements = value.Statement;
  if (rawStatements === undefined) throw malformed('The policy has no Statement');
  const list = Array.isArray(rawStatements) ? rawStatements : [rawStatements];
  if (list.length === 0) throw malformed('The policy has an empty Statement list');
  const statements = list.map((raw, index) => parseStatement(raw, index, kind));
  const sids = new Set<string>();
  for (const statement of statements) {
    if (statement.sid === undefined) continue;
    if (sids.has(statement.sid)) throw malformed(`Statement Sid ${statement.sid} is used twice; Sids must be unique within a policy`);
    sids.add(statement.sid);
  }
  return {
    version: versionGiven ? (value.Version as PolicyVersion) : '2008-10-17',
    versionGiven,
    ...(typeof value.Id === 'string' ? { id: value.Id } : {}),
    statements,
  };
}

/** "Statement 2 (Sid ReadOnly)": how messages point at a statement, counted from 1. */
export function statementLabel(index: number, sid: string | undefined): string {
  return sid === undefined ? `Statement ${index + 1}` : `Statement ${index + 1} (Sid ${sid})`;
}

function parseStatement(raw: unknown, index: number, kind: PolicyKind): Statement {
  if (!isObject(raw)) throw malformed(`Statement ${index + 1} must be a JSON object`);
  const sid = raw.Sid;
  // IAM's own policies take letters and digits in a Sid; resource policies (Lambda's, S3's) any string, and Lambda's ids have - and _.
  if (sid !== undefined && (typeof sid !== 'string' || (kind !== 'resource' && !/^[A-Za-z0-9 ]*$/.test(sid)))) {
    throw malformed(`Statement ${index + 1} has an invalid Sid ${JSON.stringify(sid)}: use letters and digits`);
  }
  const label = statementLabel(index, sid as string | undefined);
  for (const key of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(key)) throw malformed(`${label} has an unknown element ${key}`);
  }
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') {
    throw malformed(raw.Effect === undefined ? `${label} has no Effect` : `${label} has Effect ${JSON.stringify(raw.Effect)}: use Allow or Deny`);
  }
  const action = optionalStringList(raw.Action, label, 'Action');
  const notAction = optionalStringList(raw.NotAction, label, 'NotAction');
  if (action && notAction) throw malformed(`${label} has both Action and NotAction; use one`);
  if (!action && !notAction) throw malformed(`${label} has neither Action nor NotAction`);
  for (const name of [...(action ?? []), ...(notAction ?? [])]) {
    if (!ACTION_PATTERN.test(name)) throw malformed(`${label} has an invalid action ${JSON.stringify(name)}: write service:Action, e.g. sagemaker:InvokeEndpoint`);
  }
  const resource = optionalStringList(raw.Resource, label, 'Resource');
  const notResource = optionalStringList(raw.NotResource, label, 'NotResource');
  if (resource && notResource) throw malformed(`${label} has both Resource and NotResource; use one`);
  if (kind === 'trust') {
    if (resource || notResource) throw malformed(`${label} names a Resource, which a role's trust policy must not: the role itself is the resource`);
  } else if (!resource && !notResource) {
    throw malformed(`${label} has neither Resource nor NotResource`);
  }
  for (const arn of [...(resource ?? []), ...(notResource ?? [])]) {
    if (arn !== '*' && !isArnLike(arn)) throw malformed(`${label} has Resource ${JSON.stringify(arn)}, which is neither "*" nor an ARN (arn:partition:service:region:account:resource)`);
  }
  const principal = optionalPrincipal(raw.Principal, label, 'Principal');
  const notPrincipal = optionalPrincipal(raw.NotPrincipal, label, 'NotPrincipal');
  if (principal && notPrincipal) throw malformed(`${label} has both Principal and NotPrincipal; use one`);
  if (kind === 'identity' && (principal || notPrincipal)) {
    throw malformed(`${label} names a Principal, which an identity policy must not: it applies to whoever it is attached to`);
  }
  if (kind !== 'identity' && !principal && !notPrincipal) throw malformed(`${label} has no Principal, which a ${kind} policy needs`);
  return {
    ...(sid !== undefined ? { sid: sid as string } : {}),
    effect: raw.Effect,
    ...(principal ? { principal } : {}),
    ...(notPrincipal ? { notPrincipal } : {}),
    ...(action ? { action } : {}),
    ...(notAction ? { notAction } : {}),
    ...(resource ? { resource } : {}),
    ...(notResource ? { notResource } : {}),
    conditions: parseConditions(raw.Condition, label),
  };
}

function optionalStringList(value: unknown, label: string, element: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw malformed(`${label} has an empty ${element} list`);
  for (const item of list) {
    if (typeof item !== 'string' || item === '') throw malformed(`${label} has a ${element} entry ${JSON.stringify(item)} that is not a non-empty string`);
  }
  return list as string[];
}

function optionalPrincipal(value: unknown, label: string, element: string): PrincipalSpec | undefined {
  if (value === undefined) return undefined;
  if (value === '*') return '*';
  if (!isObject(value)) throw malformed(`${label} has ${element} ${JSON.stringify(value)}: use "*" or an object such as {"AWS": "arn:aws:iam::000000000000:root"}`);
  const spec: Partial<Record<PrincipalKind, string[]>> = {};
  for (const [kindName, names] of Object.entries(value)) {
    if (!(PRINCIPAL_KINDS as readonly string[]).includes(kindName)) {
      throw malformed(`${label} has ${element} kind ${kindName}; use one of ${PRINCIPAL_KINDS.join(', ')}`);
    }
    const list = optionalStringList(names, label, `${element}.${kindName}`);
    if (list) spec[kindName as PrincipalKind] = list;
  }
  if (Object.keys(spec).length === 0) throw malformed(`${label} has an empty ${element}`);
  return spec;
}

function parseConditions(value: unknown, label: string): ConditionClause[] {
  if (value === undefined) return [];
  if (!isObject(value)) throw malformed(`${label} has a Condition that is not an object of operators`);
  const clauses: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(value)) {
    if (!isObject(block)) throw malformed(`${label} has Condition operator ${operator} whose value is not an object of keys`);
    for (const [key, raw] of Object.entries(block)) {
      const list = Array.isArray(raw) ? raw : [raw];
      const values = list.map((item) => {
        if (typeof item === 'string') return item;
        if (typeof item === 'number' || typeof item === 'boolean') return String(item);
        throw malformed(`${label} has Condition ${operator} ${key} with a value ${JSON.stringify(item)} that is not a string, number or boolean`);
      });
      clauses.push({ operator, key, values });
    }
  }
  return clauses;
}

/** arn:partition:service:region:account:resource (region and account may be empty, and the parts may be wildcarded). */
function isArnLike(text: string): boolean {
  const parts = text.split(':');
  return parts.length >= 6 && parts[0] === 'arn' && parts[1] !== '' && parts[2] !== '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
