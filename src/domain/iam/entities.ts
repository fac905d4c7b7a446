import type { Tag } from '../tags.ts';

/**
 * IAM's identities and policies as Kennel stores them. Policy documents are
 * kept as the JSON text the caller sent, as IAM returns them (URL-encoded on
 * the wire, verbatim here). Group membership lives on the user, and
 * attachments on the identity, so deleting an identity removes its edges.
 */

/** Inline policies by name → document text. */
export type InlinePolicies = Readonly<Record<string, string>>;

interface Identity {
  arn: string;
  path: string;
  createdAtMs: number;
  attachedPolicyArns: readonly string[];
  inlinePolicies: InlinePolicies;
}

export interface IamUser extends Identity {
  userName: string;
  /** AIDA…, IAM's unique id: the value of aws:userid. */
  userId: string;
  tags: readonly Tag[];
  groupNames: readonly string[];
  permissionsBoundaryArn?: string;
}

export interface IamGroup extends Identity {
  groupName: string;
  groupId: string;
}

export interface IamRole extends Identity {
  roleName: string;
  /** AROA…; sessions of the role have aws:userid `AROA…:<session name>`. */
  roleId: string;
  assumeRolePolicyDocument: string;
  description?: string;
  maxSessionDurationSeconds: number;
  tags: readonly Tag[];
  permissionsBoundaryArn?: string;
}

export interface PolicyVersionRecord {
  versionId: string;
  document: string;
  createdAtMs: number;
}

/** A customer managed policy (AWS managed ones are built in, not stored). */
export interface ManagedPolicyRecord {
  arn: string;
  policyName: string;
  policyId: string;
  path: string;
  description?: string;
  createdAtMs: number;
  updatedAtMs: number;
  defaultVersionId: string;
  /** Oldest first; IAM keeps at most five. */
  versions: readonly PolicyVersionRecord[];
  tags: readonly Tag[];
  /** The next version number to hand out: v1, v2, … are never reused. */
  nextVersion: number;
}

export type AccessKeyStatus = 'Active' | 'Inactive';

export interface AccessKey {
  accessKeyId: string;
  userName: string;
  createdAtMs: number;
  status: AccessKeyStatus;
  /** The secret, sealed under the state folder's key file; never stored in the clear. */
  sealedSecret: string;
  lastUsed?: { timeMs: number; serviceName: string; region: string };
}

/** Temporary credentials from STS AssumeRole or GetSessionToken. */
export interface StsSession {
  accessKeyId: string;
  sealedSecret: string;
  sealedSessionToken: string;
  createdAtMs: number;
  expiresAtMs: number;
  /** Who the session acts as: the assumed-role ARN, or the user's ARN for GetSessionToken. */
  principalArn: string;
  /** The role, for AssumeRole sessions. */
  roleName?: string;
  roleSessionName?: string;
  /** The user, for GetSessionToken sessions. */
  userName?: string;
  /** aws:userid: `AROA…:<session>` for role sessions, the user's id otherwise. */
  userId: string;
  sessionTags: readonly Tag[];
  /** Session policies passed to AssumeRole (Policy, and the documents of PolicyArns): they can only narrow the role's permissions. */
  sessionPolicies?: readonly { label: string; document: string }[];
}

export type AuditDecision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** One request, as CloudTrail records an event. Never holds secrets, signatures or bodies. */
export interface AuditEvent {
  eventId: string;
  timeMs: number;
  /** The caller's ARN; empty when the request could not be authenticated. */
  principalArn: string;
  accessKeyId?: string;
  /** `sagemaker:InvokeEndpoint`; the operation as named, when it was not authorised. */
  action: string;
  resource: string;
  decision: AuditDecision;
  /** The statements that decided, as `<policy>#<statement>` labels. */
  statements: readonly string[];
  /** Further permissions the request needed and was allowed (iam:PassRole for CreateTrainingJob's role, …). */
  alsoAuthorized?: readonly { action: string; resource: string }[];
  sourceIp: string;
  userAgent: string;
  requestId: string;
  /** The error code the caller got, when the request failed. */
  errorCode?: string;
}
