import { DomainError } from '../core/errors.ts';
import { iamArn } from '../domain/iam/arn.ts';
import type { AccessKey, AccessKeyStatus, IamGroup, IamRole, IamUser } from '../domain/iam/entities.ts';
import { mergeTags, removeTags, type Tag } from '../domain/tags.ts';
import type { SecretBox } from '../runtime/credentials/secret-box.ts';
import type { KeyedTable } from '../store/store.ts';
import type { ControlDeps } from './deps.ts';
import { checkedPath, newSecretAccessKey, uniqueId } from './iam-ids.ts';
import { IdentityPolicies } from './iam-identity-policies.ts';
import { checkTrustPolicy, ManagedPolicies } from './iam-policies.ts';

/** IAM's quotas that callers meet first (IAM User Guide, "IAM and AWS STS quotas"). */
export const IAM_LIMITS = { accessKeysPerUser: 2, groupsPerUser: 10 } as const;

/** AWS's default and largest role session length. */
export const DEFAULT_MAX_SESSION_SECONDS = 3600;
const LONGEST_MAX_SESSION_SECONDS = 43_200;

export interface CreateUserInput {
  userName: string;
  path?: string;
  tags?: readonly Tag[];
  permissionsBoundary?: string;
}

export interface CreateRoleInput {
  roleName: string;
  assumeRolePolicyDocument: string;
  path?: string;
  description?: string;
  maxSessionDuration?: number;
  tags?: readonly Tag[];
  permissionsBoundary?: string;
}

/** A new access key, with its secret: the only time the secret leaves the server. */
export interface CreatedAccessKey {
  key: AccessKey;
  secretAccessKey: string;
}

/**
 * IAM's users, groups, roles and access keys. Every change bumps
 * `generation`, which is how the authorizer knows its cached policy sets are
 * stale: IAM writes are rare next to the requests they authorise.
 */
export class IamService {
  readonly #deps: ControlDeps;
  readonly #secrets: SecretBox;
  readonly policies: ManagedPolicies;
  readonly identityPolicies: IdentityPolicies;
  #generation = 0;

  constructor(deps: ControlDeps, secrets: SecretBox) {
    this.#deps = deps;
    this.#secrets = secrets;
    this.policies = new ManagedPolicies(deps, () => this.changed());
    this.identityPolicies = new IdentityPolicies(deps, this.policies, () => this.changed());
  }

  get generation(): number {
    return this.#generation;
  }

  changed(): void {
    this.#generation++;
  }

  // Users

  createUser(input: CreateUserInput): IamUser {
    const path = checkedPath(input.path);
    assertNameFree(this.#deps.store.iamUsers, 'User', input.userName, (user) => user.userName);
    if (input.permissionsBoundary !== undefined) this.policies.require(input.permissionsBoundary);
    const user: IamUser = {
      userName: input.userName,
      userId: uniqueId('AIDA'),
      arn: iamArn('user', path, input.userName),
      path,
      createdAtMs: this.#deps.clock.now(),
      tags: mergeTags([], input.tags ?? []),
      groupNames: [],
      attachedPolicyArns: [],
      inlinePolicies: {},
      ...(input.permissionsBoundary !== undefined ? { permissionsBoundaryArn: input.permissionsBoundary } : {}),
    };
    this.#deps.store.iamUsers.create(user);
    this.changed();
    return user;
  }

  getUser(userName: string): IamUser {
    return requireEntity(this.#deps.store.iamUsers, 'user', userName);
  }

  listUsers(pathPrefix = '/'): IamUser[] {
    return this.#deps.store.iamUsers.list().filter((user) => user.path.startsWith(pathPrefix));
  }

  /** As IAM: a user with keys, groups or policies cannot be deleted until they are removed. */
  deleteUser(userName: string): void {
    const user = this.getUser(userName);
    const keys = this.#deps.store.accessKeys.listForUser(userName);
    const blockers = [
      keys.length > 0 ? `${keys.length} access key(s)` : '',
      user.groupNames.length > 0 ? `membership of ${user.groupNames.length} group(s)` : '',
      user.attachedPolicyArns.length > 0 ? `${user.attachedPolicyArns.length} attached policy(ies)` : '',
      Object.keys(user.inlinePolicies).length > 0 ? `${Object.keys(user.inlinePolicies).length} inline policy(ies)` : '',
    ].filter(Boolean);
    if (blockers.length > 0) {
      throw new DomainError('Conflict', `Cannot delete entity, must remove ${blockers.join(', ')} of user ${userName} first.`, { userName });
    }
    this.#deps.store.iamUsers.delete(userName);
    this.changed();
  }

  tagUser(userName: string, tags: readonly Tag[]): void {
    this.#deps.store.iamUsers.modify(this.getUser(userName).userName, (user) => ({ ...user, tags: mergeTags(user.tags, tags) }));
    this.changed();
  }

  untagUser(userName: string, keys: readonly string[]): void {
    this.#deps.store.iamUsers.modify(this.getUser(userName).userName, (user) => ({ ...user, tags: removeTags(user.tags, keys) }));
    this.changed();
  }

  // Groups

  createGroup(groupName: string, path?: string): IamGroup {
    const checked = checkedPath(path);
    assertNameFree(this.#deps.store.iamGroups, 'Group', groupName, (group) => group.groupName);
    const group: IamGroup = {
      groupName,
      groupId: uniqueId('AGPA'),
      arn: iamArn('group', checked, groupName),
      path: checked,
      createdAtMs: this.#deps.clock.now(),
      attachedPolicyArns: [],
      inlinePolicies: {},
    };
    this.#deps.store.iamGroups.create(group);
    this.changed();
    return group;
  }

  getGroup(groupName: string): { group: IamGroup; users: IamUser[] } {
    const group = requireEntity(this.#deps.store.iamGroups, 'group', groupName);
    return { group, users: this.#deps.store.iamUsers.list().filter((user) => user.groupNames.includes(groupName)) };
  }

  listGroups(pathPrefix = '/'): IamGroup[] {
    return this.#deps.store.iamGroups.list().filter((group) => group.path.startsWith(pathPrefix));
  }

  deleteGroup(groupName: string): void {
    const { group, users } = this.getGroup(groupName);
    if (users.length > 0 || group.attachedPolicyArns.length > 0 || Object.keys(group.inlinePolicies).length > 0) {
      throw new DomainError('Conflict', `Cannot delete entity, must remove users and policies from group ${groupName} first.`, { groupName });
    }
    this.#deps.store.iamGroups.delete(groupName);
    this.changed();
  }

  addUserToGroup(groupName: string, userName: string): void {
    this.getGroup(groupName);
    const user = this.getUser(userName);
    if (user.groupNames.includes(groupName)) return;
    if (user.groupNames.length >= IAM_LIMITS.groupsPerUser) {
      throw new DomainError('LimitExceeded', `Cannot exceed quota for GroupsPerUser: ${IAM_LIMITS.groupsPerUser}`, { userName });
    }
    this.#deps.store.iamUsers.modify(userName, (existing) => ({ ...existing, groupNames: [...existing.groupNames, groupName] }));
    this.changed();
  }

  removeUserFromGroup(groupName: string, userName: string): void {
    this.getGroup(groupName);
    const user = this.getUser(userName);
    if (!user.groupNames.includes(groupName)) {
      throw new DomainError('NotFound', `The user with name ${userName} is not in group ${groupName}.`, { userName, groupName });
    }
    this.#deps.store.iamUsers.modify(userName, (existing) => ({ ...existing, groupNames: existing.groupNames.filter((name) => name !== groupName) }));
    this.changed();
  }

  listGroupsForUser(userName: string): IamGroup[] {
    const user = this.getUser(userName);
    return user.groupNames.map((name) => this.#deps.store.iamGroups.get(name)).filter((group): group is IamGroup => group !== undefined);
  }

  // Roles

  createRole(input: CreateRoleInput): IamRole {
    const path = checkedPath(input.path);
    assertNameFree(this.#deps.store.iamRoles, 'Role', input.roleName, (role) => role.roleName);
    checkTrustPolicy(input.assumeRolePolicyDocument);
    const maxSessionDurationSeconds = checkedMaxSessionDuration(input.maxSessionDuration);
    if (input.permissionsBoundary !== undefined) this.policies.require(input.permissionsBoundary);
    const role: IamRole = {
      roleName: input.roleName,
      roleId: uniqueId('AROA'),
      arn: iamArn('role', path, input.roleName),
      path,
      createdAtMs: this.#deps.clock.now(),
      assumeRolePolicyDocument: input.assumeRolePolicyDocument,
      ...(input.description !== undefined ? { description: input.description } : {}),
      maxSessionDurationSeconds,
      tags: mergeTags([], input.tags ?? []),
      attachedPolicyArns: [],
      inlinePolicies: {},
      ...(input.permissionsBoundary !== undefined ? { permissionsBoundaryArn: input.permissionsBoundary } : {}),
    };
    this.#deps.store.iamRoles.create(role);
    this.changed();
    return role;
  }

  getRole(roleName: string): IamRole {
    return requireEntity(this.#deps.store.iamRoles, 'role', roleName);
  }

  /** The role an ARN names, or undefined when no role has that ARN. */
  findRoleByArn(arn: string): IamRole | undefined {
    const name = arn.slice(arn.lastIndexOf('/') + 1);
    const role = this.#deps.store.iamRoles.get(name);
    return role?.arn === arn ? role : undefined;
  }

  listRoles(pathPrefix = '/'): IamRole[] {
    return this.#deps.store.iamRoles.list().filter((role) => role.path.startsWith(pathPrefix));
  }

  deleteRole(roleName: string): void {
    const role = this.getRole(roleName);
    if (role.attachedPolicyArns.length > 0 || Object.keys(role.inlinePolicies).length > 0) {
      throw new DomainError('Conflict', `Cannot delete entity, must detach all policies first.`, { roleName });
    }
    this.#deps.store.iamRoles.delete(roleName);
    this.changed();
  }

  updateAssumeRolePolicy(roleName: string, document: string): void {
    this.getRole(roleName);
    checkTrustPolicy(document);
    this.#deps.store.iamRoles.modify(roleName, (role) => ({ ...role, assumeRolePolicyDocument: document }));
    this.changed();
  }

  tagRole(roleName: string, tags: readonly Tag[]): void {
    this.#deps.store.iamRoles.modify(this.getRole(roleName).roleName, (role) => ({ ...role, tags: mergeTags(role.tags, tags) }));
    this.changed();
  }

  untagRole(roleName: string, keys: readonly string[]): void {
    this.#deps.store.iamRoles.modify(this.getRole(roleName).roleName, (role) => ({ ...role, tags: removeTags(role.tags, keys) }));
    this.changed();
  }

  // Access keys

  createAccessKey(userName: string): CreatedAccessKey {
    this.getUser(userName);
    if (this.#deps.store.accessKeys.listForUser(userName).length >= IAM_LIMITS.accessKeysPerUser) {
      throw new DomainError('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${IAM_LIMITS.accessKeysPerUser}`, { userName });
    }
    return this.issueAccessKey(userName);
  }

  /** A new key for the user, without the quota check: how first start makes the admin's key. */
  issueAccessKey(userName: string): CreatedAccessKey {
    const secretAccessKey = newSecretAccessKey();
    const key: AccessKey = {
      accessKeyId: uniqueId('AKIA', 20),
      userName,
      createdAtMs: this.#deps.clock.now(),
      status: 'Active',
      sealedSecret: this.#secrets.seal(secretAccessKey),
    };
    this.#deps.store.accessKeys.create(key);
    this.changed();
    return { key, secretAccessKey };
  }

  listAccessKeys(userName: string): AccessKey[] {
    this.getUser(userName);
    return this.#deps.store.accessKeys.listForUser(userName);
  }

  updateAccessKey(userName: string, accessKeyId: string, status: AccessKeyStatus): void {
    this.#requireKeyOf(userName, accessKeyId);
    this.#deps.store.accessKeys.update(accessKeyId, { status });
    this.changed();
  }

  deleteAccessKey(userName: string, accessKeyId: string): void {
    this.#requireKeyOf(userName, accessKeyId);
    this.#deps.store.accessKeys.delete(accessKeyId);
    this.changed();
  }

  getAccessKey(accessKeyId: string): AccessKey {
    const key = this.#deps.store.accessKeys.get(accessKeyId);
    if (!key) throw new DomainError('NotFound', `The Access Key with id ${accessKeyId} cannot be found.`, { accessKeyId });
    return key;
  }

  #requireKeyOf(userName: string, accessKeyId: string): AccessKey {
    this.getUser(userName);
    const key = this.#deps.store.accessKeys.get(accessKeyId);
    if (!key || key.userName !== userName) throw new DomainError('NotFound', `The Access Key with id ${accessKeyId} cannot be found.`, { accessKeyId });
    return key;
  }
}

function requireEntity<T>(table: KeyedTable<T>, kind: 'user' | 'group' | 'role', name: string): T {
  const entity = table.get(name);
  if (!entity) throw new DomainError('NotFound', `The ${kind} with name ${name} cannot be found.`, { kind, name });
  return entity;
}

/** IAM names are unique regardless of case: "Alice" and "alice" cannot both exist. */
function assertNameFree<T>(table: KeyedTable<T>, kind: string, name: string, nameOf: (entity: T) => string): void {
  const lower = name.toLowerCase();
  if (table.list().some((entity) => nameOf(entity).toLowerCase() === lower)) {
    throw new DomainError('AlreadyExists', `${kind} with name ${name} already exists.`, { name });
  }
}

function checkedMaxSessionDuration(seconds: number | undefined): number {
  if (seconds === undefined) return DEFAULT_MAX_SESSION_SECONDS;
  if (seconds < DEFAULT_MAX_SESSION_SECONDS || seconds > LONGEST_MAX_SESSION_SECONDS) {
    throw new DomainError(
      'ValidationError',
      `The requested MaxSessionDuration ${seconds} is outside the range ${DEFAULT_MAX_SESSION_SECONDS}–${LONGEST_MAX_SESSION_SECONDS} seconds.`,
      { field: 'MaxSessionDuration' },
    );
  }
  return seconds;
}
