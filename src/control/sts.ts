import { randomBytes } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import { assumedRoleArn } from '../domain/iam/arn.ts';
import type { StsSession } from '../domain/iam/entities.ts';
import { parsePolicyDocument } from '../domain/iam/policy-document.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import type { SecretBox } from '../runtime/credentials/secret-box.ts';
import type { Caller } from './credentials.ts';
import type { ControlDeps } from './deps.ts';
import { newSecretAccessKey, uniqueId } from './iam-ids.ts';
import type { IamService } from './iam.ts';

/** STS's limits (AssumeRole and GetSessionToken API references). */
export const STS_LIMITS = {
  minDurationSeconds: 900,
  assumeRoleDefaultSeconds: 3600,
  /** A session that assumes another role (role chaining) lasts at most an hour. */
  roleChainingMaxSeconds: 3600,
  sessionTokenDefaultSeconds: 43_200,
  sessionTokenMaxSeconds: 129_600,
  maxSessionTags: 50,
} as const;

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAtMs: number;
}

export interface AssumeRoleInput {
  roleArn: string;
  roleSessionName: string;
  durationSeconds?: number;
  tags?: readonly Tag[];
  /** A session policy, which can only narrow what the role allows. */
  policy?: string;
  /** Managed policies to use as session policies, as the inline one. */
  policyArns?: readonly string[];
}

/** How often issuing a session also clears out ended ones. */
const PRUNE_INTERVAL_MS = 3600_000;

/**
 * STS: temporary credentials. Whether the caller may assume the role (its
 * trust policy and the caller's own policies) is decided by the authorizer
 * before this runs, as for every other action.
 */
export class StsService {
  readonly #deps: ControlDeps;
  readonly #iam: IamService;
  readonly #secrets: SecretBox;
  #prunedAtMs = Number.NEGATIVE_INFINITY;

  constructor(deps: ControlDeps, iam: IamService, secrets: SecretBox) {
    this.#deps = deps;
    this.#iam = iam;
    this.#secrets = secrets;
  }

  assumeRole(caller: Caller, input: AssumeRoleInput): { credentials: TemporaryCredentials; assumedRoleId: string; arn: string } {
    const role = this.#iam.findRoleByArn(input.roleArn);
    if (!role) {
      throw new DomainError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`, {
        roleArn: input.roleArn,
      });
    }
    const longest = caller.type === 'AssumedRole' ? STS_LIMITS.roleChainingMaxSeconds : role.maxSessionDurationSeconds;
    const durationSeconds = checkedDuration(input.durationSeconds ?? STS_LIMITS.assumeRoleDefaultSeconds, longest, 'DurationSeconds');
    const sessionPolicies = this.#sessionPolicies(input);
    // Tags a role session passed on (transitive tags) are not modelled; the session's own tags are.
    const sessionTags = mergeTags([], input.tags ?? []);
    if (sessionTags.length > STS_LIMITS.maxSessionTags) {
      throw new DomainError('ValidationError', `A session can carry at most ${STS_LIMITS.maxSessionTags} tags`, { field: 'Tags' });
    }
    const assumedRoleId = `${role.roleId}:${input.roleSessionName}`;
    const arn = assumedRoleArn(role.roleName, input.roleSessionName);
    const credentials = this.#issue(durationSeconds, {
      principalArn: arn,
      roleName: role.roleName,
      roleSessionName: input.roleSessionName,
      userId: assumedRoleId,
      sessionTags,
      ...(sessionPolicies.length > 0 ? { sessionPolicies } : {}),
    });
    return { credentials, assumedRoleId, arn };
  }

  /**
   * A service's session of a role it was given (Lambda's execution role): the
   * caller that handed the role over was checked for iam:PassRole, and the
   * service checks the trust policy itself. The session lasts as long as the
   * role allows.
   */
  assumeRoleAsService(roleArn: string, roleSessionName: string): TemporaryCredentials {
    const role = this.#iam.findRoleByArn(roleArn);
    if (!role) throw new DomainError('NotFound', `Role ${roleArn} does not exist`, { roleArn });
    return this.#issue(role.maxSessionDurationSeconds, {
      principalArn: assumedRoleArn(role.roleName, roleSessionName),
      roleName: role.roleName,
      roleSessionName,
      userId: `${role.roleId}:${roleSessionName}`,
      sessionTags: [],
    });
  }

  /** The inline session policy and the managed ones by ARN; a missing or malformed one refuses the call rather than widen the session. */
  #sessionPolicies(input: AssumeRoleInput): { label: string; document: string }[] {
    const policies: { label: string; document: string }[] = [];
    if (input.policy !== undefined) {
      parsePolicyDocument(input.policy, 'identity');
      policies.push({ label: 'session policy', document: input.policy });
    }
    for (const arn of input.policyArns ?? []) {
      const document = this.#iam.policies.defaultDocument(arn);
      if (document === undefined) throw new DomainError('NotFound', `Policy ${arn} given in PolicyArns does not exist`, { arn });
      policies.push({ label: `${arn} (session policy)`, document });
    }
    return policies;
  }

  /** Temporary credentials for an IAM user, acting as that user. */
  getSessionToken(caller: Caller, durationSeconds?: number): TemporaryCredentials {
    if (caller.temporary || caller.userName === undefined) {
      throw new DomainError('AccessDenied', 'Cannot call GetSessionToken with session credentials', { arn: caller.arn });
    }
    const seconds = checkedDuration(durationSeconds ?? STS_LIMITS.sessionTokenDefaultSeconds, STS_LIMITS.sessionTokenMaxSeconds, 'DurationSeconds');
    return this.#issue(seconds, { principalArn: caller.arn, userName: caller.userName, userId: caller.userId, sessionTags: [] });
  }

  /** Drops sessions that ended before `nowMs`; their keys would be refused anyway. */
  pruneExpired(nowMs: number): number {
    this.#prunedAtMs = nowMs;
    let removed = 0;
    for (const session of this.#deps.store.stsSessions.list()) {
      if (session.expiresAtMs <= nowMs && this.#deps.store.stsSessions.delete(session.accessKeyId)) removed++;
    }
    return removed;
  }

  #issue(durationSeconds: number, identity: Omit<StsSession, 'accessKeyId' | 'sealedSecret' | 'sealedSessionToken' | 'createdAtMs' | 'expiresAtMs'>): TemporaryCredentials {
    const now = this.#deps.clock.now();
    if (now - this.#prunedAtMs >= PRUNE_INTERVAL_MS) this.pruneExpired(now);
    const secretAccessKey = newSecretAccessKey();
    // Long, opaque and random, like STS's: nothing about the session can be read from it.
    const sessionToken = randomBytes(96).toString('base64');
    const session: StsSession = {
      accessKeyId: uniqueId('ASIA', 20),
      sealedSecret: this.#secrets.seal(secretAccessKey),
      sealedSessionToken: this.#secrets.seal(sessionToken),
      createdAtMs: now,
      // STS expiries are whole seconds.
      expiresAtMs: Math.floor(now / 1000) * 1000 + durationSeconds * 1000,
      ...identity,
    };
    this.#deps.store.stsSessions.create(session);
    return { accessKeyId: session.accessKeyId, secretAccessKey, sessionToken, expiresAtMs: session.expiresAtMs };
  }
}

function checkedDuration(seconds: number, longest: number, field: string): number {
  if (!Number.isInteger(seconds) || seconds < STS_LIMITS.minDurationSeconds || seconds > longest) {
    throw new DomainError(
      'ValidationError',
      `The requested ${field} ${seconds} is outside the range ${STS_LIMITS.minDurationSeconds}–${longest} seconds this session allows.`,
      { field },
    );
  }
  return seconds;
}
