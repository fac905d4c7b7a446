import { DomainError } from '../core/errors.ts';
import type { IamGroup, IamRole, IamUser } from '../domain/iam/entities.ts';
import type { KeyedTable } from '../store/store.ts';
import type { ControlDeps } from './deps.ts';
import { checkPolicyDocument, type ManagedPolicies } from './iam-policies.ts';

export type IdentityKind = 'user' | 'group' | 'role';

type IdentityRecord = IamUser | IamGroup | IamRole;

/** Managed policies per identity (IAM's default quota is 10; Kennel allows what AWS allows on request). */
export const MAX_ATTACHED_POLICIES = 20;

/**
 * IAM's limits on inline policy text, counted without whitespace, per identity
 * (all its inline policies together): user 2,048, group 5,120, role 10,240.
 */
export const INLINE_POLICY_CHARACTERS: Readonly<Record<IdentityKind, number>> = { user: 2048, group: 5120, role: 10_240 };

/**
 * The policies on users, groups and roles, which IAM's API has one set of
 * operations for per kind (AttachUserPolicy, AttachGroupPolicy, …): managed
 * policy attachments, inline policies and permission boundaries.
 */
export class IdentityPolicies {
  readonly #deps: ControlDeps;
  readonly #policies: ManagedPolicies;
  readonly #changed: () => void;

  constructor(deps: ControlDeps, policies: ManagedPolicies, changed: () => void) {
    this.#deps = deps;
    this.#policies = policies;
    this.#changed = changed;
  }

  attach(kind: IdentityKind, name: string, policyArn: string): void {
    this.#policies.require(policyArn);
    this.#modify(kind, name, (identity) => {
      if (identity.attachedPolicyArns.includes(policyArn)) return identity;
      if (identity.attachedPolicyArns.length >= MAX_ATTACHED_POLICIES) {
        throw new DomainError('LimitExceeded', `Cannot exceed quota for PoliciesPer${capitalised(kind)}: ${MAX_ATTACHED_POLICIES}`, { name });
      }
      return { ...identity, attachedPolicyArns: [...identity.attachedPolicyArns, policyArn] };
    });
  }

  detach(kind: IdentityKind, name: string, policyArn: string): void {
    this.#modify(kind, name, (identity) => {
      if (!identity.attachedPolicyArns.includes(policyArn)) {
        throw new DomainError('NotFound', `Policy ${policyArn} was not found.`, { policyArn });
      }
      return { ...identity, attachedPolicyArns: identity.attachedPolicyArns.filter((arn) => arn !== policyArn) };
    });
  }

  listAttached(kind: IdentityKind, name: string): { policyName: string; policyArn: string }[] {
    return this.get(kind, name).attachedPolicyArns.map((policyArn) => ({
      policyArn,
      policyName: this.#policies.find(policyArn)?.policyName ?? policyArn.slice(policyArn.lastIndexOf('/') + 1),
    }));
  }

  putInline(kind: IdentityKind, name: string, policyName: string, document: string): void {
    checkPolicyDocument(document);
    this.#modify(kind, name, (identity) => {
      const inlinePolicies = { ...identity.inlinePolicies, [policyName]: document };
      const characters = Object.values(inlinePolicies).reduce((sum, text) => sum + text.replace(/\s/g, '').length, 0);
      if (characters > INLINE_POLICY_CHARACTERS[kind]) {
        throw new DomainError(
          'LimitExceeded',
          `Maximum policy size of ${INLINE_POLICY_CHARACTERS[kind]} bytes exceeded for ${kind} ${name}: its inline policies would hold ${characters}. Use a managed policy instead.`,
          { name },
        );
      }
      return { ...identity, inlinePolicies };
    });
  }

  getInline(kind: IdentityKind, name: string, policyName: string): string {
    const { inlinePolicies } = this.get(kind, name);
    // Own members only: a policy named "constructor" is not Object's.
    const document = Object.hasOwn(inlinePolicies, policyName) ? inlinePolicies[policyName] : undefined;
    if (document === undefined) {
      throw new DomainError('NotFound', `The ${kind} policy with name ${policyName} cannot be found.`, { policyName });
    }
    return document;
  }

  deleteInline(kind: IdentityKind, name: string, policyName: string): void {
    this.getInline(kind, name, policyName);
    this.#modify(kind, name, (identity) => {
      const { [policyName]: _removed, ...rest } = identity.inlinePolicies;
      return { ...identity, inlinePolicies: rest };
    });
  }

  listInline(kind: IdentityKind, name: string): string[] {
    return Object.keys(this.get(kind, name).inlinePolicies).sort();
  }

  putBoundary(kind: 'user' | 'role', name: string, policyArn: string): void {
    this.#policies.require(policyArn);
    this.#modify(kind, name, (identity) => ({ ...identity, permissionsBoundaryArn: policyArn }));
  }

  deleteBoundary(kind: 'user' | 'role', name: string): void {
    this.#modify(kind, name, (identity) => ({ ...identity, permissionsBoundaryArn: undefined }));
  }

  get(kind: IdentityKind, name: string): IdentityRecord {
    const identity = this.#table(kind).get(name);
    if (!identity) throw new DomainError('NotFound', `The ${kind} with name ${name} cannot be found.`, { kind, name });
    return identity;
  }

  #modify(kind: IdentityKind, name: string, change: (identity: IdentityRecord) => IdentityRecord): void {
    this.get(kind, name);
    this.#table(kind).modify(name, change);
    this.#changed();
  }

  #table(kind: IdentityKind): KeyedTable<IdentityRecord> {
    const { store } = this.#deps;
    // The three tables hold the three record types; the operations here touch only the fields they share.
    const tables = { user: store.iamUsers, group: store.iamGroups, role: store.iamRoles } as Record<IdentityKind, KeyedTable<IdentityRecord>>;
    return tables[kind];
  }
}

function capitalised(kind: IdentityKind): string {
  return kind[0]!.toUpperCase() + kind.slice(1);
}
