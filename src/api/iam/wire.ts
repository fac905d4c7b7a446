import type { AccessKey, IamGroup, IamRole, IamUser } from '../../domain/iam/entities.ts';
import type { Tag } from '../../domain/tags.ts';
import type { ManagedPolicyView } from '../../control/iam-policies.ts';
import { markerPage as pageByMarker } from '../aws/marker-page.ts';

/** IAM's members as its wire spells them, converted from Kennel's records in one place. */

export interface WireTag {
  Key: string;
  Value: string;
}

export function tagsFromWire(tags: readonly WireTag[] | undefined): Tag[] {
  return (tags ?? []).map((tag) => ({ key: tag.Key, value: tag.Value }));
}

export function tagsToWire(tags: readonly Tag[]): WireTag[] {
  return tags.map((tag) => ({ Key: tag.key, Value: tag.value }));
}

/** IAM returns policy documents URL-encoded (RFC 3986), as AWS does; the SDKs and the CLI decode them. */
export function encodedDocument(document: string): string {
  return encodeURIComponent(document);
}

function boundary(arn: string | undefined) {
  return arn === undefined ? {} : { PermissionsBoundary: { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: arn } };
}

function withTags(tags: readonly Tag[]) {
  return tags.length > 0 ? { Tags: tagsToWire(tags) } : {};
}

export function userToWire(user: IamUser, options: { tags?: boolean } = {}) {
  return {
    Path: user.path,
    UserName: user.userName,
    UserId: user.userId,
    Arn: user.arn,
    CreateDate: new Date(user.createdAtMs),
    ...boundary(user.permissionsBoundaryArn),
    ...(options.tags ? withTags(user.tags) : {}),
  };
}

export function groupToWire(group: IamGroup) {
  return { Path: group.path, GroupName: group.groupName, GroupId: group.groupId, Arn: group.arn, CreateDate: new Date(group.createdAtMs) };
}

export function roleToWire(role: IamRole, options: { tags?: boolean } = {}) {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: new Date(role.createdAtMs),
    AssumeRolePolicyDocument: encodedDocument(role.assumeRolePolicyDocument),
    ...(role.description !== undefined ? { Description: role.description } : {}),
    MaxSessionDuration: role.maxSessionDurationSeconds,
    ...boundary(role.permissionsBoundaryArn),
    ...(options.tags ? withTags(role.tags) : {}),
  };
}

export function accessKeyMetadata(key: AccessKey) {
  return { UserName: key.userName, AccessKeyId: key.accessKeyId, Status: key.status, CreateDate: new Date(key.createdAtMs) };
}

export function policyToWire(policy: ManagedPolicyView) {
  return {
    PolicyName: policy.policyName,
    PolicyId: policy.policyId,
    Arn: policy.arn,
    Path: policy.path,
    DefaultVersionId: policy.defaultVersionId,
    AttachmentCount: policy.attachmentCount,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: policy.isAttachable,
    ...(policy.description !== undefined ? { Description: policy.description } : {}),
    CreateDate: new Date(policy.createdAtMs),
    UpdateDate: new Date(policy.updatedAtMs),
    ...withTags(policy.tags),
  };
}

/** IAM's default page size for List* operations. */
export const DEFAULT_MAX_ITEMS = 100;

/** One page of an IAM List* answer: `MaxItems` and `Marker`, with `IsTruncated`. */
export function markerPage<T>(
  unordered: readonly T[],
  keyOf: (item: T) => string,
  input: { Marker?: string; MaxItems?: number },
  order: 'by-key' | 'as-given' = 'by-key',
): { page: T[]; IsTruncated: boolean; Marker?: string } {
  const { page, nextMarker } = pageByMarker(unordered, keyOf, { marker: input.Marker, maxItems: input.MaxItems ?? DEFAULT_MAX_ITEMS }, order);
  return { page, IsTruncated: nextMarker !== undefined, ...(nextMarker !== undefined ? { Marker: nextMarker } : {}) };
}
