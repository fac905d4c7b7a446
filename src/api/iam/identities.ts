import type { Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import type { Caller } from '../../control/credentials.ts';
import type { Platform } from '../../control/platform.ts';
import type { QueryOperation } from '../aws/query-protocol.ts';
import type { ApiEnv } from '../env.ts';
import { accessKeyMetadata, groupToWire, markerPage, roleToWire, tagsFromWire, tagsToWire, userToWire, type WireTag } from './wire.ts';

export type IamOperations = Record<string, QueryOperation>;

/** The caller of a verified request. */
export function callerOf(platform: Platform, c: Context<ApiEnv>): Caller {
  const caller = platform.credentials.caller(c.get('accessKeyId'));
  if (!caller) throw new DomainError('UnrecognizedClient', 'The security token included in the request is invalid.');
  return caller;
}

/** Operations that default to the caller's own user when UserName is omitted, as IAM's do for a user's own keys. */
function userNameOrCaller(platform: Platform, c: Context<ApiEnv>, userName: string | undefined): string {
  if (userName !== undefined) return userName;
  const caller = callerOf(platform, c);
  if (caller.type !== 'User' || caller.userName === undefined) {
    throw new DomainError('ValidationError', 'Must specify userName when calling with non-User credentials', { field: 'UserName' });
  }
  return caller.userName;
}

export function userOperations(platform: Platform): IamOperations {
  const { iam } = platform;
  return {
    CreateUser: {
      handler: (input: { UserName: string; Path?: string; Tags?: WireTag[]; PermissionsBoundary?: string }) => ({
        User: userToWire(iam.createUser({ userName: input.UserName, path: input.Path, tags: tagsFromWire(input.Tags), permissionsBoundary: input.PermissionsBoundary }), { tags: true }),
      }),
    },
    GetUser: { handler: (input: { UserName?: string }, c) => ({ User: userToWire(iam.getUser(userNameOrCaller(platform, c, input.UserName)), { tags: true }) }) },
    ListUsers: {
      handler: (input: { PathPrefix?: string; Marker?: string; MaxItems?: number }) => {
        const { page, ...rest } = markerPage(iam.listUsers(input.PathPrefix), (user) => user.userName, input);
        return { Users: page.map((user) => userToWire(user)), ...rest };
      },
    },
    DeleteUser: { handler: (input: { UserName: string }) => iam.deleteUser(input.UserName) },
    TagUser: { handler: (input: { UserName: string; Tags: WireTag[] }) => iam.tagUser(input.UserName, tagsFromWire(input.Tags)) },
    UntagUser: { handler: (input: { UserName: string; TagKeys: string[] }) => iam.untagUser(input.UserName, input.TagKeys) },
    ListUserTags: { handler: (input: { UserName: string }) => ({ Tags: tagsToWire(iam.getUser(input.UserName).tags), IsTruncated: false }) },
    CreateGroup: { handler: (input: { GroupName: string; Path?: string }) => ({ Group: groupToWire(iam.createGroup(input.GroupName, input.Path)) }) },
    GetGroup: {
      handler: (input: { GroupName: string; Marker?: string; MaxItems?: number }) => {
        const { group, users } = iam.getGroup(input.GroupName);
        const { page, ...rest } = markerPage(users, (user) => user.userName, input);
        return { Group: groupToWire(group), Users: page.map((user) => userToWire(user)), ...rest };
      },
    },
    ListGroups: {
      handler: (input: { PathPrefix?: string; Marker?: string; MaxItems?: number }) => {
        const { page, ...rest } = markerPage(iam.listGroups(input.PathPrefix), (group) => group.groupName, input);
        return { Groups: page.map(groupToWire), ...rest };
      },
    },
    DeleteGroup: { handler: (input: { GroupName: string }) => iam.deleteGroup(input.GroupName) },
    AddUserToGroup: { handler: (input: { GroupName: string; UserName: string }) => iam.addUserToGroup(input.GroupName, input.UserName) },
    RemoveUserFromGroup: { handler: (input: { GroupName: string; UserName: string }) => iam.removeUserFromGroup(input.GroupName, input.UserName) },
    ListGroupsForUser: {
      handler: (input: { UserName: string; Marker?: string; MaxItems?: number }) => {
        const { page, ...rest } = markerPage(iam.listGroupsForUser(input.UserName), (group) => group.groupName, input);
        return { Groups: page.map(groupToWire), ...rest };
      },
    },
  };
}

export function roleOperations(platform: Platform): IamOperations {
  const { iam } = platform;
  return {
    CreateRole: {
      handler: (input: {
        RoleName: string;
        AssumeRolePolicyDocument: string;
        Path?: string;
        Description?: string;
        MaxSessionDuration?: number;
        Tags?: WireTag[];
        PermissionsBoundary?: string;
      }) => ({
        Role: roleToWire(
          iam.createRole({
            roleName: input.RoleName,
            assumeRolePolicyDocument: input.AssumeRolePolicyDocument,
            path: input.Path,
            description: input.Description,
            maxSessionDuration: input.MaxSessionDuration,
            tags: tagsFromWire(input.Tags),
            permissionsBoundary: input.PermissionsBoundary,
          }),
          { tags: true },
        ),
      }),
    },
    GetRole: { handler: (input: { RoleName: string }) => ({ Role: roleToWire(iam.getRole(input.RoleName), { tags: true }) }) },
    ListRoles: {
      handler: (input: { PathPrefix?: string; Marker?: string; MaxItems?: number }) => {
        const { page, ...rest } = markerPage(iam.listRoles(input.PathPrefix), (role) => role.roleName, input);
        return { Roles: page.map((role) => roleToWire(role)), ...rest };
      },
    },
    DeleteRole: { handler: (input: { RoleName: string }) => iam.deleteRole(input.RoleName) },
    UpdateAssumeRolePolicy: { handler: (input: { RoleName: string; PolicyDocument: string }) => iam.updateAssumeRolePolicy(input.RoleName, input.PolicyDocument) },
    TagRole: { handler: (input: { RoleName: string; Tags: WireTag[] }) => iam.tagRole(input.RoleName, tagsFromWire(input.Tags)) },
    UntagRole: { handler: (input: { RoleName: string; TagKeys: string[] }) => iam.untagRole(input.RoleName, input.TagKeys) },
    ListRoleTags: { handler: (input: { RoleName: string }) => ({ Tags: tagsToWire(iam.getRole(input.RoleName).tags), IsTruncated: false }) },
  };
}

export function accessKeyOperations(platform: Platform): IamOperations {
  const { iam } = platform;
  return {
    CreateAccessKey: {
      // The one time the secret leaves the server: it is not stored in the clear, and cannot be read back.
      handler: (input: { UserName?: string }, c) => {
        const { key, secretAccessKey } = iam.createAccessKey(userNameOrCaller(platform, c, input.UserName));
        return { AccessKey: { ...accessKeyMetadata(key), SecretAccessKey: secretAccessKey } };
      },
    },
    ListAccessKeys: {
      handler: (input: { UserName?: string; Marker?: string; MaxItems?: number }, c) => {
        const keys = iam.listAccessKeys(userNameOrCaller(platform, c, input.UserName));
        const { page, ...rest } = markerPage(keys, (key) => key.accessKeyId, input);
        return { AccessKeyMetadata: page.map(accessKeyMetadata), ...rest };
      },
    },
    UpdateAccessKey: {
      handler: (input: { UserName?: string; AccessKeyId: string; Status: 'Active' | 'Inactive' }, c) =>
        iam.updateAccessKey(userNameOrCaller(platform, c, input.UserName), input.AccessKeyId, input.Status),
    },
    DeleteAccessKey: {
      handler: (input: { UserName?: string; AccessKeyId: string }, c) => iam.deleteAccessKey(userNameOrCaller(platform, c, input.UserName), input.AccessKeyId),
    },
    GetAccessKeyLastUsed: {
      handler: (input: { AccessKeyId: string }) => {
        const key = iam.getAccessKey(input.AccessKeyId);
        return {
          UserName: key.userName,
          AccessKeyLastUsed: key.lastUsed
            ? { LastUsedDate: new Date(key.lastUsed.timeMs), ServiceName: key.lastUsed.serviceName, Region: key.lastUsed.region }
            : { ServiceName: 'N/A', Region: 'N/A' },
        };
      },
    },
  };
}
