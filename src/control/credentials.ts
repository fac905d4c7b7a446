import { ACCOUNT_ID } from '../domain/iam/arn.ts';
import type { SigV4Credential } from '../domain/iam/sigv4.ts';
import type { Tag } from '../domain/tags.ts';
import type { SecretBox } from '../runtime/credentials/secret-box.ts';
import type { ControlDeps } from './deps.ts';
import { IamDerivedCache } from './iam-cache.ts';
import type { IamService } from './iam.ts';

/** Who signed a request, as the authorizer and GetCallerIdentity see them. */
export interface Caller {
  arn: string;
  accountId: string;
  type: 'User' | 'AssumedRole';
  /** aws:userid: the user's id, or `AROA…:<session>` for a role session. */
  userId: string;
  accessKeyId: string;
  /** The IAM user: the signer of a long-term key or of a GetSessionToken session. */
  userName?: string;
  /** The role, for AssumeRole sessions. */
  roleName?: string;
  sessionName?: string;
  /** Session tags, which take the place of the role's tags of the same key. */
  sessionTags: readonly Tag[];
  sessionPolicies?: readonly { label: string; document: string }[];
  /** Temporary credentials (a session token signed the request). */
  temporary: boolean;
}

/** Keys whose opened secrets are kept at once. */
const MAX_CACHED_KEYS = 10_000;

interface Entry {
  credential: SigV4Credential;
  caller: Caller;
}

/**
 * The credentials SigV4 verifies against: access keys and STS sessions, with
 * their secrets opened once and kept in memory, so a request costs a map
 * lookup rather than a database read and a decryption. The cache is dropped
 * whenever IAM changes (a key disabled or deleted takes effect on the next
 * request).
 */
export class CredentialStore {
  readonly #deps: ControlDeps;
  readonly #secrets: SecretBox;
  readonly #cache: IamDerivedCache<Entry>;

  constructor(deps: ControlDeps, iam: IamService, secrets: SecretBox) {
    this.#deps = deps;
    this.#secrets = secrets;
    this.#cache = new IamDerivedCache(() => iam.generation, MAX_CACHED_KEYS);
  }

  /** The SigV4 lookup: undefined for an unknown or inactive key, or an ended session. */
  lookup = (accessKeyId: string): SigV4Credential | undefined => this.#entry(accessKeyId)?.credential;

  caller(accessKeyId: string): Caller | undefined {
    return this.#entry(accessKeyId)?.caller;
  }

  #entry(accessKeyId: string): Entry | undefined {
    return this.#cache.get(accessKeyId, () => this.#load(accessKeyId));
  }

  #load(accessKeyId: string): Entry | undefined {
    const { store } = this.#deps;
    const key = store.accessKeys.get(accessKeyId);
    if (key) {
      const user = store.iamUsers.get(key.userName);
      if (key.status !== 'Active' || !user) return undefined;
      return {
        credential: { secretAccessKey: this.#secrets.open(key.sealedSecret), principal: user.arn },
        caller: { arn: user.arn, accountId: ACCOUNT_ID, type: 'User', userId: user.userId, accessKeyId, userName: user.userName, sessionTags: [], temporary: false },
      };
    }
    const session = store.stsSessions.get(accessKeyId);
    if (!session) return undefined;
    // A session outlives neither its role nor its user, and is not handed to a new one of the same name: ids are never reused.
    if (session.roleName !== undefined && !session.userId.startsWith(`${store.iamRoles.get(session.roleName)?.roleId}:`)) return undefined;
    if (session.userName !== undefined && store.iamUsers.get(session.userName)?.userId !== session.userId) return undefined;
    return {
      credential: {
        secretAccessKey: this.#secrets.open(session.sealedSecret),
        principal: session.principalArn,
        sessionToken: this.#secrets.open(session.sealedSessionToken),
        expiresAtMs: session.expiresAtMs,
      },
      caller: {
        arn: session.principalArn,
        accountId: ACCOUNT_ID,
        type: session.roleName !== undefined ? 'AssumedRole' : 'User',
        userId: session.userId,
        accessKeyId,
        ...(session.userName !== undefined ? { userName: session.userName } : {}),
        ...(session.roleName !== undefined ? { roleName: session.roleName, sessionName: session.roleSessionName } : {}),
        sessionTags: session.sessionTags,
        ...(session.sessionPolicies !== undefined ? { sessionPolicies: session.sessionPolicies } : {}),
        temporary: true,
      },
    };
  }
}
