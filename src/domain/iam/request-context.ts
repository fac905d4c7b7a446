import type { VariableSource } from './policy-variables.ts';

/**
 * The request context that conditions and policy variables read: condition
 * keys and their values. Key names are case-insensitive (`aws:sourceip` is
 * `aws:SourceIp`), values are not. A value is one string or a list of strings
 * (a multivalued key such as `aws:TagKeys`).
 */
export type ContextValue = string | readonly string[];
export type ContextInput = ReadonlyMap<string, ContextValue> | Readonly<Record<string, ContextValue>>;

/** Who is calling, as the authenticator found them. */
export interface AuthorizationPrincipal {
  /** `arn:aws:iam::ACCOUNT:user/NAME`, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, `arn:aws:iam::ACCOUNT:root`, or a service name such as `lambda.amazonaws.com`. */
  arn: string;
  accountId: string;
  /** 'User' | 'AssumedRole' | 'Role' | 'Root' | 'FederatedUser' | 'Service'. */
  type: string;
  userName?: string;
  /** The unique id: `AIDA...` for users, `AROA...:SESSION` for role sessions. */
  userId?: string;
  /** For role sessions: the role's own ARN, path included (the session ARN drops the path). */
  roleArn?: string;
  tags?: Readonly<Record<string, string>>;
}

/**
 * The context keys of one request, stored under lower-cased names so that
 * compiled conditions (whose keys are lower-cased once) look them up directly.
 * `get`, `has`, `set` and `delete` take names in any case. It wraps a Map
 * rather than extending one: V8 builds and fills a Map subclass several times
 * slower, and this is built on every request.
 */
export class ConditionContext implements ReadonlyMap<string, ContextValue>, VariableSource {
  private readonly byName = new Map<string, ContextValue>();

  constructor(entries?: Iterable<readonly [string, ContextValue]>) {
    if (entries) for (const [key, value] of entries) this.byName.set(key.toLowerCase(), value);
  }

  get size(): number {
    return this.byName.size;
  }

  set(key: string, value: ContextValue): this {
    this.byName.set(key.toLowerCase(), value);
    return this;
  }

  get(key: string): ContextValue | undefined {
    return this.byName.get(key.toLowerCase());
  }

  has(key: string): boolean {
    return this.byName.has(key.toLowerCase());
  }

  delete(key: string): boolean {
    return this.byName.delete(key.toLowerCase());
  }

  /** Under a name that is already lower-case: the per-request path. */
  setLowerCase(lowerCaseKey: string, value: ContextValue): this {
    this.byName.set(lowerCaseKey, value);
    return this;
  }

  /** By a name that is already lower-case: the per-request path. */
  lookup(lowerCaseKey: string): ContextValue | undefined {
    return this.byName.get(lowerCaseKey);
  }

  singleValue(lowerCaseKey: string): string | undefined {
    const value = this.byName.get(lowerCaseKey);
    return typeof value === 'string' ? value : undefined;
  }

  /** Entries under their lower-cased names. */
  entries(): MapIterator<[string, ContextValue]> {
    return this.byName.entries();
  }

  keys(): MapIterator<string> {
    return this.byName.keys();
  }

  values(): MapIterator<ContextValue> {
    return this.byName.values();
  }

  forEach(callback: (value: ContextValue, key: string, map: ReadonlyMap<string, ContextValue>) => void): void {
    this.byName.forEach((value, key) => callback(value, key, this));
  }

  [Symbol.iterator](): MapIterator<[string, ContextValue]> {
    return this.byName.entries();
  }
}

/** The context as a ConditionContext; one built by requestContextKeys is used as is. */
export function toConditionContext(input: ContextInput): ConditionContext {
  return input instanceof ConditionContext ? input : new ConditionContext(contextEntries(input));
}

/** A map's entries, or a record's: a record's values are strings or lists, never a `get` function. */
function contextEntries(input: ContextInput): Iterable<readonly [string, ContextValue]> {
  return typeof input.get === 'function' ? (input as ReadonlyMap<string, ContextValue>).entries() : Object.entries(input as Readonly<Record<string, ContextValue>>);
}

export interface RequestFacts {
  principal: AuthorizationPrincipal;
  /** The time of the request, ms since the epoch: aws:CurrentTime and aws:EpochTime. */
  nowMs: number;
  sourceIp?: string;
  /** Whether the request came over TLS: aws:SecureTransport. */
  secureTransport?: boolean;
  /** The region the request was signed for: aws:RequestedRegion. */
  region?: string;
  /** Tags the request sets (aws:RequestTag/KEY, and their keys as aws:TagKeys). */
  requestTags?: Readonly<Record<string, string>>;
  /** Tags of the resource acted on (aws:ResourceTag/KEY). */
  resourceTags?: Readonly<Record<string, string>>;
  /** Service-specific keys (`sagemaker:InstanceTypes`, ...), added last. */
  extra?: ContextInput;
}

/**
 * The global condition keys (IAM User Guide, "AWS global condition context
 * keys") of a request, built alike by every caller. A key is left out when the
 * request has no value for it, as AWS does: `aws:username` exists only for IAM
 * users, `aws:SourceIp` only when known, `aws:TagKeys` only when the request
 * sets tags. For a role session `aws:PrincipalArn` is the role's ARN, not the
 * session's.
 */
export function requestContextKeys(facts: RequestFacts): ConditionContext {
  const { principal } = facts;
  const context = new ConditionContext();
  const { currentTime, epochTime } = timeKeys(facts.nowMs);
  // The global keys' names, written lower-case as the context stores them: this runs on every request.
  context.setLowerCase('aws:currenttime', currentTime);
  context.setLowerCase('aws:epochtime', epochTime);
  if (facts.secureTransport !== undefined) context.setLowerCase('aws:securetransport', String(facts.secureTransport));
  if (facts.sourceIp !== undefined) context.setLowerCase('aws:sourceip', facts.sourceIp);
  if (facts.region !== undefined) context.setLowerCase('aws:requestedregion', facts.region);
  const isService = principal.type === 'Service';
  context.setLowerCase('aws:principalisawsservice', String(isService));
  if (isService) {
    context.setLowerCase('aws:principalservicename', principal.arn);
  } else {
    context.setLowerCase('aws:principalarn', principalArnKey(principal));
    context.setLowerCase('aws:principalaccount', principal.accountId);
    context.setLowerCase('aws:principaltype', principal.type === 'Root' ? 'Account' : principal.type);
  }
  if (principal.type === 'User' && principal.userName !== undefined) context.setLowerCase('aws:username', principal.userName);
  if (principal.userId !== undefined) context.setLowerCase('aws:userid', principal.userId);
  for (const [key, value] of Object.entries(principal.tags ?? {})) context.set(`aws:PrincipalTag/${key}`, value);
  const requestTagKeys = Object.keys(facts.requestTags ?? {});
  for (const key of requestTagKeys) context.set(`aws:RequestTag/${key}`, facts.requestTags![key]);
  if (requestTagKeys.length > 0) context.setLowerCase('aws:tagkeys', requestTagKeys);
  for (const [key, value] of Object.entries(facts.resourceTags ?? {})) context.set(`aws:ResourceTag/${key}`, value);
  if (facts.extra !== undefined) for (const [key, value] of contextEntries(facts.extra)) context.set(key, value);
  return context;
}

/** The time keys change once a second, and formatting a date costs more than the rest of the context: the last second's are kept. */
let lastSecond = Number.NaN;
let lastTimeKeys = { currentTime: '', epochTime: '' };
function timeKeys(nowMs: number): { currentTime: string; epochTime: string } {
  const second = Math.floor(nowMs / 1000);
  if (second !== lastSecond) {
    // As AWS writes aws:CurrentTime: to the second, in UTC.
    lastTimeKeys = { currentTime: `${new Date(second * 1000).toISOString().slice(0, 19)}Z`, epochTime: String(second) };
    lastSecond = second;
  }
  return lastTimeKeys;
}

/** aws:PrincipalArn: the role's ARN for a role session (without its path when only the session ARN is known). */
function principalArnKey(principal: AuthorizationPrincipal): string {
  if (principal.type !== 'AssumedRole') return principal.arn;
  if (principal.roleArn !== undefined) return principal.roleArn;
  const role = assumedRoleName(principal.arn);
  return role === undefined ? principal.arn : `arn:${arnPartition(principal.arn)}:iam::${principal.accountId}:role/${role}`;
}

/** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` → ROLE. */
export function assumedRoleName(sessionArn: string): string | undefined {
  const marker = ':assumed-role/';
  const at = sessionArn.indexOf(marker);
  if (at < 0 || !sessionArn.startsWith('arn:')) return undefined;
  const rest = sessionArn.slice(at + marker.length);
  const slash = rest.indexOf('/');
  return slash > 0 ? rest.slice(0, slash) : undefined;
}

function arnPartition(arn: string): string {
  return arn.split(':', 2)[1] ?? 'aws';
}
