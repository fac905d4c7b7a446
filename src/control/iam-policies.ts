import { DomainError } from '../core/errors.ts';
import { AWS_MANAGED_POLICY_PREFIX, iamArn } from '../domain/iam/arn.ts';
import type { ManagedPolicyRecord, PolicyVersionRecord } from '../domain/iam/entities.ts';
import { MANAGED_POLICIES, managedPolicy } from '../domain/iam/managed-policies.ts';
import { compilePolicy } from '../domain/iam/compile-policy.ts';
import { parsePolicyDocument, type PolicyKind } from '../domain/iam/policy-document.ts';
import { blocksAttachment, validatePolicy, type Finding } from '../domain/iam/validate-policy.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import type { ControlDeps } from './deps.ts';
import { checkedPath, stableId, uniqueId } from './iam-ids.ts';

/** IAM keeps at most five versions of a managed policy. */
export const MAX_POLICY_VERSIONS = 5;

/** IAM's limit on a managed policy's text, counted without whitespace. */
export const MAX_MANAGED_POLICY_CHARACTERS = 6144;

/** A managed policy as GetPolicy describes it, AWS managed or customer managed. */
export interface ManagedPolicyView {
  arn: string;
  policyName: string;
  policyId: string;
  path: string;
  description?: string;
  defaultVersionId: string;
  createdAtMs: number;
  updatedAtMs: number;
  attachmentCount: number;
  isAttachable: true;
  awsManaged: boolean;
  tags: readonly Tag[];
}

export interface CreatePolicyInput {
  policyName: string;
  policyDocument: string;
  path?: string;
  description?: string;
  tags?: readonly Tag[];
}

/**
 * Checks a policy before it is stored: a document with ERROR findings is
 * refused as MalformedPolicyDocument (naming every error); warnings are
 * returned for the caller to show.
 */
export function checkPolicyDocument(document: string, kind: PolicyKind = 'identity'): Finding[] {
  const findings = validatePolicy(document, { kind });
  if (blocksAttachment(findings)) {
    const errors = findings.filter((finding) => finding.severity === 'ERROR').map((finding) => finding.message);
    throw new DomainError('MalformedPolicyDocument', errors.join(' '), { findings });
  }
  assertCompiles(document, kind);
  return findings;
}

/** What the evaluator cannot read (a partly wildcarded principal, a value an operator cannot parse) is refused when written, not on every later request. */
function assertCompiles(document: string, kind: PolicyKind): void {
  compilePolicy(parsePolicyDocument(document, kind));
}

function checkManagedPolicyDocument(document: string): void {
  const characters = document.replace(/\s/g, '').length;
  if (characters > MAX_MANAGED_POLICY_CHARACTERS) {
    throw new DomainError('LimitExceeded', `Cannot exceed quota for PolicySize: ${MAX_MANAGED_POLICY_CHARACTERS} (this policy has ${characters} characters besides whitespace)`, {
      field: 'PolicyDocument',
    });
  }
  checkPolicyDocument(document);
}

/**
 * Checks a role's trust policy: it must parse, and may name only sts actions,
 * which AWS enforces too ("AssumeRole policy may only specify STS AssumeRole
 * actions"). Its other findings are not held against it: trust policies
 * copied from AWS name STS actions and federation condition keys Kennel does
 * not serve, which change nothing here.
 */
export function checkTrustPolicy(document: string): void {
  const errors = validatePolicy(document, { kind: 'trust' }).filter(
    (finding) => finding.severity === 'ERROR' && (finding.code === 'SYNTAX' || finding.code === 'TRUST_POLICY_NON_STS_ACTION'),
  );
  if (errors.length > 0) throw new DomainError('MalformedPolicyDocument', errors.map((finding) => finding.message).join(' '), { findings: errors });
  assertCompiles(document, 'trust');
}

/**
 * Managed policies: AWS's own (built in, read-only, under arn:aws:iam::aws:policy/)
 * and the account's (stored, with versions).
 */
export class ManagedPolicies {
  readonly #deps: ControlDeps;
  readonly #changed: () => void;

  constructor(deps: ControlDeps, changed: () => void) {
    this.#deps = deps;
    this.#changed = changed;
  }

  create(input: CreatePolicyInput): ManagedPolicyView {
    const path = checkedPath(input.path);
    const arn = iamArn('policy', path, input.policyName);
    const lower = input.policyName.toLowerCase();
    if (this.#deps.store.iamPolicies.list().some((policy) => policy.path === path && policy.policyName.toLowerCase() === lower)) {
      throw new DomainError('AlreadyExists', `A policy called ${input.policyName} already exists. Duplicate names are not allowed.`, { arn });
    }
    checkManagedPolicyDocument(input.policyDocument);
    const now = this.#deps.clock.now();
    const record: ManagedPolicyRecord = {
      arn,
      policyName: input.policyName,
      policyId: uniqueId('ANPA'),
      path,
      ...(input.description !== undefined ? { description: input.description } : {}),
      createdAtMs: now,
      updatedAtMs: now,
      defaultVersionId: 'v1',
      versions: [{ versionId: 'v1', document: input.policyDocument, createdAtMs: now }],
      tags: mergeTags([], input.tags ?? []),
      nextVersion: 2,
    };
    this.#deps.store.iamPolicies.create(record);
    this.#changed();
    return this.#view(record);
  }

  /** The policy an ARN names; NoSuchEntity when there is none. */
  get(arn: string): ManagedPolicyView {
    return this.#view(this.require(arn));
  }

  /** The stored (or built-in) policy an ARN names, with its versions. */
  require(arn: string): ManagedPolicyRecord {
    const record = this.find(arn);
    if (!record) throw new DomainError('NotFound', `Policy ${arn} does not exist or is not attachable.`, { arn });
    return record;
  }

  find(arn: string): ManagedPolicyRecord | undefined {
    if (!arn.startsWith(AWS_MANAGED_POLICY_PREFIX)) return this.#deps.store.iamPolicies.get(arn);
    const builtIn = managedPolicy(arn);
    return builtIn ? this.#awsRecord(builtIn) : undefined;
  }

  /** The default version's document of a policy that exists. */
  defaultDocument(arn: string): string | undefined {
    const record = this.find(arn);
    return record?.versions.find((version) => version.versionId === record.defaultVersionId)?.document;
  }

  list(options: { scope?: 'All' | 'AWS' | 'Local'; onlyAttached?: boolean; pathPrefix?: string } = {}): ManagedPolicyView[] {
    const scope = options.scope ?? 'All';
    const records = [
      ...(scope !== 'Local' ? MANAGED_POLICIES.map((policy) => this.#awsRecord(policy)) : []),
      ...(scope !== 'AWS' ? this.#deps.store.iamPolicies.list() : []),
    ];
    return records
      .filter((record) => record.path.startsWith(options.pathPrefix ?? '/'))
      .map((record) => this.#view(record))
      .filter((view) => !options.onlyAttached || view.attachmentCount > 0);
  }

  getVersion(arn: string, versionId: string): PolicyVersionRecord & { isDefaultVersion: boolean } {
    const record = this.require(arn);
    const version = record.versions.find((candidate) => candidate.versionId === versionId);
    if (!version) throw new DomainError('NotFound', `Policy ${arn} version ${versionId} does not exist or is not attachable.`, { arn, versionId });
    return { ...version, isDefaultVersion: version.versionId === record.defaultVersionId };
  }

  listVersions(arn: string): (PolicyVersionRecord & { isDefaultVersion: boolean })[] {
    const record = this.require(arn);
    return [...record.versions].reverse().map((version) => ({ ...version, isDefaultVersion: version.versionId === record.defaultVersionId }));
  }

  createVersion(arn: string, document: string, setAsDefault: boolean): PolicyVersionRecord & { isDefaultVersion: boolean } {
    this.#requireCustomer(arn);
    checkManagedPolicyDocument(document);
    const now = this.#deps.clock.now();
    const updated = this.#deps.store.iamPolicies.modify(arn, (record) => {
      if (record.versions.length >= MAX_POLICY_VERSIONS) {
        throw new DomainError('LimitExceeded', `A managed policy can have up to ${MAX_POLICY_VERSIONS} versions. Before you create a new version, you must delete an existing version.`, {
          arn,
        });
      }
      const versionId = `v${record.nextVersion}`;
      return {
        ...record,
        versions: [...record.versions, { versionId, document, createdAtMs: now }],
        nextVersion: record.nextVersion + 1,
        updatedAtMs: now,
        ...(setAsDefault ? { defaultVersionId: versionId } : {}),
      };
    });
    this.#changed();
    const created = updated.versions[updated.versions.length - 1]!;
    return { ...created, isDefaultVersion: created.versionId === updated.defaultVersionId };
  }

  deleteVersion(arn: string, versionId: string): void {
    this.getVersion(this.#requireCustomer(arn).arn, versionId);
    this.#deps.store.iamPolicies.modify(arn, (record) => {
      if (record.defaultVersionId === versionId) {
        throw new DomainError('Conflict', 'Cannot delete the default version of a policy.', { arn, versionId });
      }
      return { ...record, versions: record.versions.filter((version) => version.versionId !== versionId) };
    });
    this.#changed();
  }

  setDefaultVersion(arn: string, versionId: string): void {
    this.getVersion(this.#requireCustomer(arn).arn, versionId);
    this.#deps.store.iamPolicies.modify(arn, (record) => ({ ...record, defaultVersionId: versionId, updatedAtMs: this.#deps.clock.now() }));
    this.#changed();
  }

  /** As IAM: only a policy attached to nothing, with no versions but the default, can be deleted. */
  delete(arn: string): void {
    const record = this.#requireCustomer(arn);
    if (this.attachments(arn).total > 0) {
      throw new DomainError('Conflict', 'Cannot delete a policy attached to entities.', { arn });
    }
    if (record.versions.length > 1) {
      throw new DomainError('Conflict', 'This policy has more than one version. Before you delete a policy, you must delete the policy\'s versions. The default version is deleted with the policy.', {
        arn,
      });
    }
    this.#deps.store.iamPolicies.delete(arn);
    this.#changed();
  }

  /** Who has the policy attached. */
  attachments(arn: string): { users: string[]; groups: string[]; roles: string[]; total: number } {
    const { store } = this.#deps;
    const users = store.iamUsers.list().filter((user) => user.attachedPolicyArns.includes(arn)).map((user) => user.userName);
    const groups = store.iamGroups.list().filter((group) => group.attachedPolicyArns.includes(arn)).map((group) => group.groupName);
    const roles = store.iamRoles.list().filter((role) => role.attachedPolicyArns.includes(arn)).map((role) => role.roleName);
    return { users, groups, roles, total: users.length + groups.length + roles.length };
  }

  #requireCustomer(arn: string): ManagedPolicyRecord {
    if (arn.startsWith(AWS_MANAGED_POLICY_PREFIX)) {
      this.require(arn);
      throw new DomainError('ValidationError', `Policy ${arn} is an AWS managed policy, which cannot be changed or deleted.`, { arn, unmodifiable: true });
    }
    return this.require(arn);
  }

  #awsRecord(policy: (typeof MANAGED_POLICIES)[number]): ManagedPolicyRecord {
    return {
      arn: policy.arn,
      policyName: policy.name,
      // Fixed policies keep one id across restarts.
      policyId: stableId('ANPA', policy.arn),
      path: policy.path,
      description: policy.description,
      createdAtMs: 0,
      updatedAtMs: 0,
      defaultVersionId: 'v1',
      versions: [{ versionId: 'v1', document: JSON.stringify(policy.document), createdAtMs: 0 }],
      tags: [],
      nextVersion: 2,
    };
  }

  #view(record: ManagedPolicyRecord): ManagedPolicyView {
    return {
      arn: record.arn,
      policyName: record.policyName,
      policyId: record.policyId,
      path: record.path,
      ...(record.description !== undefined ? { description: record.description } : {}),
      defaultVersionId: record.defaultVersionId,
      createdAtMs: record.createdAtMs,
      updatedAtMs: record.updatedAtMs,
      attachmentCount: this.attachments(record.arn).total,
      isAttachable: true,
      awsManaged: record.arn.startsWith(AWS_MANAGED_POLICY_PREFIX),
      tags: record.tags,
    };
  }
}
