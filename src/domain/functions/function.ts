import type { FunctionState, LastUpdateStatus, LastUpdateStatusReasonCode, StateReasonCode } from './function-state.ts';
import type { ProvisionedConcurrencyStatus } from './provisioned-plan.ts';

/**
 * Lambda functions as Kennel records them. A function's unpublished
 * configuration ($LATEST) lives on the function; each PublishVersion freezes a
 * copy as a FunctionVersion; aliases point at versions. What users ask for
 * (reserved and provisioned concurrency, async settings) is desired state on
 * the function; provisioned concurrency's status and counts are observed state,
 * written by the reconciler.
 */

/** The function's package: a zip kept as a content-addressed artifact. */
export interface FunctionCode {
  /** SHA-256 of the zip, hex: the artifact holding it. */
  digest: string;
  /** The same hash in base64, as Lambda reports CodeSha256. */
  sha256Base64: string;
  sizeBytes: number;
  unzippedBytes: number;
}

/** What a version freezes: every setting that decides how the code runs. */
export interface FunctionSettings {
  runtime: string;
  handler: string;
  roleArn: string;
  description: string;
  timeoutSeconds: number;
  memorySizeMb: number;
  environment: Record<string, string>;
  ephemeralStorageMb: number;
  /** Where Lambda would send events that failed every async attempt: an SQS queue or SNS topic ARN, recorded as given. */
  deadLetterTargetArn?: string;
  code: FunctionCode;
}

/** The lifecycle fields Lambda reports on every configuration (function-state.ts decides them). */
export interface FunctionStatus {
  state: FunctionState;
  stateReason?: string;
  stateReasonCode?: StateReasonCode;
  lastUpdateStatus?: LastUpdateStatus;
  lastUpdateStatusReason?: string;
  lastUpdateStatusReasonCode?: LastUpdateStatusReasonCode;
}

/** A provisioned concurrency config of one version or alias. */
export interface ProvisionedConcurrency {
  /** Desired: environments to keep initialised. */
  requested: number;
  lastModifiedMs: number;
  /** Observed, by the reconciler. */
  status: ProvisionedConcurrencyStatus;
  statusReason?: string;
  allocated: number;
  available: number;
}

/** PutFunctionEventInvokeConfig's settings for one qualifier. */
export interface EventInvokeConfig {
  maximumRetryAttempts?: number;
  maximumEventAgeSeconds?: number;
  /** Destination ARNs: Kennel delivers to Lambda functions. */
  onSuccess?: string;
  onFailure?: string;
  lastModifiedMs: number;
}

export interface LambdaFunction extends FunctionSettings, FunctionStatus {
  name: string;
  /** Unqualified: `arn:aws:lambda:<region>:<account>:function:<name>`. */
  arn: string;
  createdAtMs: number;
  lastModifiedMs: number;
  /** Changes on every update of $LATEST; callers may pass it back to guard against lost updates. */
  revisionId: string;
  /** The number PublishVersion gives next. */
  nextVersion: number;
  tags: Record<string, string>;
  /** PutFunctionConcurrency: a floor and a ceiling for this function; 0 throttles it. */
  reservedConcurrency?: number;
  /** The resource-based policy (AddPermission), as a JSON document. */
  policy?: string;
  /** By qualifier: '$LATEST', a version or an alias. */
  eventInvokeConfigs: Record<string, EventInvokeConfig>;
  /** By qualifier: a version or an alias. */
  provisionedConcurrency: Record<string, ProvisionedConcurrency>;
}

/** A published version: `key` is `<function>:<version>`. */
export interface FunctionVersion extends FunctionSettings {
  key: string;
  functionName: string;
  version: string;
  publishedAtMs: number;
  revisionId: string;
}

/** `key` is `<function>:<alias>`. */
export interface FunctionAlias {
  key: string;
  functionName: string;
  name: string;
  functionVersion: string;
  description: string;
  /** Another version and the share of invocations it gets, as AdditionalVersionWeights. */
  additionalVersionWeights?: Record<string, number>;
  revisionId: string;
}

export type AsyncEventStatus = 'queued' | 'failed';

/**
 * An Event invocation, stored before Invoke answers 202, so it survives a
 * crash. It is deleted once handled; one that failed every attempt stays as
 * `failed` (the dead-letter list) until redriven or purged.
 */
export interface AsyncEvent {
  requestId: string;
  functionName: string;
  /** The qualifier it was invoked with; absent means $LATEST. */
  qualifier?: string;
  /** Base64 of the event. */
  payload: string;
  enqueuedAtMs: number;
  /** Attempts that ran the function. */
  attempts: number;
  /** Times it went back to the queue without running (throttled): drives the backoff. */
  deferrals?: number;
  nextAttemptAtMs: number;
  status: AsyncEventStatus;
  /** Why the last attempt failed, and for a failed event, why it was given up. */
  lastError?: { errorType: string; errorMessage: string };
  failedCondition?: 'RetriesExhausted' | 'EventAgeExceeded';
  failedAtMs?: number;
  /** Why its record could not be sent to the on-failure destination, when it had one. */
  deliveryError?: string;
}

export function versionKey(functionName: string, version: string): string {
  return `${functionName}:${version}`;
}
