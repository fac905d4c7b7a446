import type { IdentityKind } from '../../control/iam-identity-policies.ts';
import type { Platform } from '../../control/platform.ts';
import type { IamOperations } from './identities.ts';
import { encodedDocument, markerPage, policyToWire, tagsFromWire, type WireTag } from './wire.ts';

interface Paged {
  Marker?: string;
  MaxItems?: number;
}

export function managedPolicyOperations(platform: Platform): IamOperations {
  const { policies } = platform.iam;
  const versionToWire = (version: { versionId: string; createdAtMs: number; isDefaultVersion: boolean; document?: string }) => ({
    VersionId: version.versionId,
    IsDefaultVersion: version.isDefaultVersion,
    CreateDate: new Date(version.createdAtMs),
    ...(version.document !== undefined ? { Document: encodedDocument(version.document) } : {}),
  });
  return {
    CreatePolicy: {
      handler: (input: { PolicyName: string; PolicyDocument: string; Path?: string; Description?: string; Tags?: WireTag[] }) => ({
        Policy: policyToWire(
          policies.create({ policyName: input.PolicyName, policyDocument: input.PolicyDocument, path: input.Path, description: input.Description, tags: tagsFromWire(input.Tags) }),
        ),
      }),
    },
    GetPolicy: { handler: (input: { PolicyArn: string }) => ({ Policy: policyToWire(policies.get(input.PolicyArn)) }) },
    GetPolicyVersion: { handler: (input: { PolicyArn: string; VersionId: string }) => ({ PolicyVersion: versionToWire(policies.getVersion(input.PolicyArn, input.VersionId)) }) },
    CreatePolicyVersion: {
      handler: (input: { PolicyArn: string; PolicyDocument: string; SetAsDefault?: boolean }) => {
        const { document: _document, ...version } = policies.createVersion(input.PolicyArn, input.PolicyDocument, input.SetAsDefault ?? false);
        return { PolicyVersion: versionToWire(version) };
      },
    },
    ListPolicyVersions: {
      handler: (input: { PolicyArn: string } & Paged) => {
        const { page, ...rest } = markerPage(policies.listVersions(input.PolicyArn), (version) => version.versionId, input, 'as-given');
        return { Versions: page.map(({ document: _document, ...version }) => versionToWire(version)), ...rest };
      },
    },
    DeletePolicyVersion: { handler: (input: { PolicyArn: string; VersionId: string }) => policies.deleteVersion(input.PolicyArn, input.VersionId) },
    SetDefaultPolicyVersion: { handler: (input: { PolicyArn: string; VersionId: string }) => policies.setDefaultVersion(input.PolicyArn, input.VersionId) },
    ListPolicies: {
      handler: (input: { Scope?: 'All' | 'AWS' | 'Local'; OnlyAttached?: boolean; PathPrefix?: string } & Paged) => {
        const listed = policies.list({ scope: input.Scope, onlyAttached: input.OnlyAttached, pathPrefix: input.PathPrefix });
        const { page, ...rest } = markerPage(listed, (policy) => policy.arn, input);
        return { Policies: page.map(policyToWire), ...rest };
      },
    },
    DeletePolicy: { handler: (input: { PolicyArn: string }) => policies.delete(input.PolicyArn) },
    ListEntitiesForPolicy: {
      handler: (input: { PolicyArn: string }) => {
        policies.require(input.PolicyArn);
        const { users, groups, roles } = policies.attachments(input.PolicyArn);
        const { store } = platform.deps;
        return {
          PolicyUsers: users.map((name) => ({ UserName: name, UserId: store.iamUsers.get(name)?.userId })),
          PolicyGroups: groups.map((name) => ({ GroupName: name, GroupId: store.iamGroups.get(name)?.groupId })),
          PolicyRoles: roles.map((name) => ({ RoleName: name, RoleId: store.iamRoles.get(name)?.roleId })),
          IsTruncated: false,
        };
      },
    },
  };
}

/** The same operations for each kind of identity: AttachUserPolicy, AttachGroupPolicy, AttachRolePolicy, … */
export function identityPolicyOperations(platform: Platform): IamOperations {
  const policies = platform.iam.identityPolicies;
  const operations: IamOperations = {};
  const kinds: [IdentityKind, 'User' | 'Group' | 'Role'][] = [
    ['user', 'User'],
    ['group', 'Group'],
    ['role', 'Role'],
  ];
  for (const [kind, Kind] of kinds) {
    const member = `${Kind}Name`;
    /** The members these operations read; the model has checked that the required ones are there. */
    type Input = Record<string, string>;
    const nameOf = (input: Input) => input[member]!;
    operations[`Attach${Kind}Policy`] = { handler: (input: Input) => policies.attach(kind, nameOf(input), input.PolicyArn) };
    operations[`Detach${Kind}Policy`] = { handler: (input: Input) => policies.detach(kind, nameOf(input), input.PolicyArn) };
    operations[`ListAttached${Kind}Policies`] = {
      handler: (input: Input & Paged) => {
        const attached = policies.listAttached(kind, nameOf(input)).filter((policy) => input.PathPrefix === undefined || policy.policyArn.includes(`:policy${input.PathPrefix}`));
        const { page, ...rest } = markerPage(attached, (policy) => policy.policyArn, input);
        return { AttachedPolicies: page.map((policy) => ({ PolicyName: policy.policyName, PolicyArn: policy.policyArn })), ...rest };
      },
    };
    operations[`Put${Kind}Policy`] = { handler: (input: Input) => policies.putInline(kind, nameOf(input), input.PolicyName, input.PolicyDocument) };
    operations[`Get${Kind}Policy`] = {
      handler: (input: Input) => ({ [member]: nameOf(input), PolicyName: input.PolicyName, PolicyDocument: encodedDocument(policies.getInline(kind, nameOf(input), input.PolicyName)) }),
    };
    operations[`Delete${Kind}Policy`] = { handler: (input: Input) => policies.deleteInline(kind, nameOf(input), input.PolicyName) };
    operations[`List${Kind}Policies`] = {
      handler: (input: Input & Paged) => {
        const { page, ...rest } = markerPage(policies.listInline(kind, nameOf(input)), (name) => name, input);
        return { PolicyNames: page, ...rest };
      },
    };
    if (kind !== 'group') {
      operations[`Put${Kind}PermissionsBoundary`] = { handler: (input: Input) => policies.putBoundary(kind, nameOf(input), input.PermissionsBoundary) };
      operations[`Delete${Kind}PermissionsBoundary`] = { handler: (input: Input) => policies.deleteBoundary(kind, nameOf(input)) };
    }
  }
  return operations;
}
