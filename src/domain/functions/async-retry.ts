import { DomainError } from '../../core/errors.ts';
import { parseFunctionName, type LambdaScope } from './function-names.ts';
import { checkIntegerRange, invalidParameterValue, validationException } from './lambda-errors.ts';

/**
 * Asynchronous invocation as the Developer Guide describes it ("How Lambda handles errors
 * and retries with asynchronous invocation"): an event the function fails on is retried up
 * to MaximumRetryAttempts times, about a minute before the first retry and two before the
 * second; an event that could not run (throttled, or the environment failed before the
 * handler ran) goes back to the queue without using an attempt, retried with a backoff
 * from one second doubling to five minutes, until it is MaximumEventAgeInSeconds old.
 */

export type AsyncOutcome =
  | 'success'
  | 'function-error'
  | 'throttled'
  | 'system-error'
  /** Throttled because the function's reserved concurrency is 0: Lambda sends such events on at once, without retries. */
  | 'throttled-reserved-zero';

export interface AsyncEvent {
  enqueuedAtMs: number;
  /** Times the function has run on this event. */
  attempts: number;
  /** Times it went back to the queue without running; drives the throttle backoff. */
  deferrals?: number;
}

export interface AsyncRetryConfig {
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
}

export const DEFAULT_ASYNC_RETRY: AsyncRetryConfig = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 };
export const MAXIMUM_RETRY_ATTEMPTS = { min: 0, max: 2 } as const;
export const MAXIMUM_EVENT_AGE_SECONDS = { min: 60, max: 21_600 } as const;

export interface AsyncTiming {
  /** The wait before retry n (1-based) after a function error; the last entry repeats. */
  functionErrorDelaysMs: readonly number[];
  throttleBaseMs: number;
  throttleCapMs: number;
}

/** Lambda's own delays. A server may run a faster timing so tests of the whole path take seconds. */
export const LAMBDA_ASYNC_TIMING: AsyncTiming = { functionErrorDelaysMs: [60_000, 120_000], throttleBaseMs: 1_000, throttleCapMs: 300_000 };

export type DestinationCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

export type AsyncDecision =
  | { kind: 'done'; attempts: number }
  | { kind: 'retry'; atMs: number; attempts: number; deferrals: number }
  | { kind: 'failed'; condition: Exclude<DestinationCondition, 'Success'>; attempts: number };

/**
 * What happens to the event after one delivery. `random` in [0, 1) spreads throttle
 * retries over the last fifth of each backoff step, so events throttled together do not
 * all come back together (never later than the step, so the cap holds). An event whose
 * next try would fall after its maximum age fails now, not when that time comes.
 */
export function decideAsyncAttempt(
  event: AsyncEvent,
  outcome: AsyncOutcome,
  config: AsyncRetryConfig,
  nowMs: number,
  timing: AsyncTiming,
  random: number,
): AsyncDecision {
  const deferrals = event.deferrals ?? 0;
  const deadlineMs = event.enqueuedAtMs + config.maximumEventAgeSeconds * 1000;
  switch (outcome) {
    case 'success':
      return { kind: 'done', attempts: event.attempts + 1 };
    case 'throttled-reserved-zero':
      return { kind: 'failed', condition: 'RetriesExhausted', attempts: event.attempts };
    case 'function-error': {
      const attempts = event.attempts + 1;
      // The run that just failed was attempt n; the next would be retry n.
      if (attempts > config.maximumRetryAttempts) return { kind: 'failed', condition: 'RetriesExhausted', attempts };
      const delays = timing.functionErrorDelaysMs;
      const atMs = nowMs + (delays[Math.min(attempts, delays.length) - 1] ?? 0);
      if (atMs > deadlineMs) return { kind: 'failed', condition: 'EventAgeExceeded', attempts };
      return { kind: 'retry', atMs, attempts, deferrals };
    }
    case 'throttled':
    case 'system-error': {
      const stepMs = Math.min(timing.throttleCapMs, timing.throttleBaseMs * 2 ** deferrals);
      const atMs = nowMs + Math.round(stepMs * (0.8 + 0.2 * random));
      if (atMs > deadlineMs) return { kind: 'failed', condition: 'EventAgeExceeded', attempts: event.attempts };
      return { kind: 'retry', atMs, attempts: event.attempts, deferrals: deferrals + 1 };
    }
  }
}

/** Before a delivery: an event that waited past its maximum age (a long outage, a restart) is not run. */
export function checkEventAge(
  event: AsyncEvent,
  config: AsyncRetryConfig,
  nowMs: number,
): { kind: 'deliver' } | { kind: 'failed'; condition: 'EventAgeExceeded'; attempts: number } {
  if (nowMs - event.enqueuedAtMs > config.maximumEventAgeSeconds * 1000) {
    return { kind: 'failed', condition: 'EventAgeExceeded', attempts: event.attempts };
  }
  return { kind: 'deliver' };
}

/** PutFunctionEventInvokeConfig / UpdateFunctionEventInvokeConfig, as the request spells it. */
export interface EventInvokeConfigInput {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: { OnSuccess?: { Destination?: string }; OnFailure?: { Destination?: string } };
}

/** What the request sets; a destination of `null` was given as "" and removes the one configured. */
export interface EventInvokeConfigChange {
  maximumRetryAttempts?: number;
  maximumEventAgeSeconds?: number;
  onSuccess?: string | null;
  onFailure?: string | null;
}

const DESTINATION_ARN = /^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}(-gov)?-[a-z]+-\d)?:(\d{12})?:(.*)$/;
const DESTINATION_ARN_PATTERN_TEXT = '^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)';
const DESTINATION_KINDS: Record<string, string> = { sqs: 'an SQS queue', sns: 'an SNS topic', events: 'an EventBridge event bus', s3: 'an S3 bucket' };

/** Checks the request and says what it changes. Kennel delivers invocation records to Lambda functions of its own account and region. */
export function validateEventInvokeConfig(input: EventInvokeConfigInput, target: { functionName: string; scope: LambdaScope }): EventInvokeConfigChange {
  if (input.MaximumRetryAttempts === undefined && input.MaximumEventAgeInSeconds === undefined && input.DestinationConfig === undefined) {
    throw invalidParameterValue('You must specify at least one of error handling or destination setting.');
  }
  const change: EventInvokeConfigChange = {};
  if (input.MaximumRetryAttempts !== undefined) {
    checkIntegerRange('MaximumRetryAttempts', 'maximumRetryAttempts', input.MaximumRetryAttempts, MAXIMUM_RETRY_ATTEMPTS.min, MAXIMUM_RETRY_ATTEMPTS.max);
    change.maximumRetryAttempts = input.MaximumRetryAttempts;
  }
  if (input.MaximumEventAgeInSeconds !== undefined) {
    checkIntegerRange('MaximumEventAgeInSeconds', 'maximumEventAgeInSeconds', input.MaximumEventAgeInSeconds, MAXIMUM_EVENT_AGE_SECONDS.min, MAXIMUM_EVENT_AGE_SECONDS.max);
    change.maximumEventAgeSeconds = input.MaximumEventAgeInSeconds;
  }
  const onSuccess = input.DestinationConfig?.OnSuccess?.Destination;
  const onFailure = input.DestinationConfig?.OnFailure?.Destination;
  if (onSuccess !== undefined) change.onSuccess = checkDestination(onSuccess, 'onSuccess', target);
  if (onFailure !== undefined) change.onFailure = checkDestination(onFailure, 'onFailure', target);
  return change;
}

function checkDestination(arn: string, member: 'onSuccess' | 'onFailure', target: { functionName: string; scope: LambdaScope }): string | null {
  if (arn === '') return null;
  const field = `DestinationConfig.${member === 'onSuccess' ? 'OnSuccess' : 'OnFailure'}.Destination`;
  if (arn.length > 350 || !DESTINATION_ARN.test(arn)) {
    throw validationException(field, arn, `destinationConfig.${member}.destination`, `Member must satisfy regular expression pattern: ${DESTINATION_ARN_PATTERN_TEXT}`);
  }
  const service = arn.split(':')[2];
  if (service !== 'lambda') {
    const kind = DESTINATION_KINDS[service] ?? `a ${service} resource`;
    throw invalidParameterValue(
      `Kennel delivers invocation records to Lambda functions only, and ${arn} is ${kind}. Use a function ARN such as arn:aws:lambda:${target.scope.region}:${target.scope.accountId}:function:my-destination.`,
      field,
    );
  }
  let destination: string;
  try {
    destination = parseFunctionName(arn, undefined, target.scope).functionName;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    throw invalidParameterValue(`The destination ARN ${arn} is invalid. ${error.message}`, field);
  }
  if (destination === target.functionName) throw invalidParameterValue("You can't specify the function as a destination for itself.", field);
  return arn;
}

/** The JSON Lambda sends to a destination (Developer Guide, "Invocation record"). */
export interface InvocationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: DestinationCondition; approximateInvokeCount: number };
  requestPayload: unknown;
  /** Present once the function has run: an event that aged out while throttled has no response. */
  responseContext?: { statusCode: number; executedVersion: string; functionError?: 'Handled' | 'Unhandled' };
  responsePayload?: unknown;
}

export function destinationRecord(input: {
  requestId: string;
  /** The qualified ARN that ran, e.g. `...:function:my-function:$LATEST`. */
  functionArn: string;
  condition: DestinationCondition;
  approximateInvokeCount: number;
  timestampMs: number;
  /** The event, as the function received it. */
  requestPayload: unknown;
  /** The last response; its payload parsed from JSON where it was JSON. */
  response?: { statusCode: number; executedVersion: string; functionError?: 'Handled' | 'Unhandled'; payload: unknown };
}): InvocationRecord {
  const record: InvocationRecord = {
    version: '1.0',
    timestamp: new Date(input.timestampMs).toISOString(),
    requestContext: {
      requestId: input.requestId,
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.approximateInvokeCount,
    },
    requestPayload: input.requestPayload,
  };
  if (input.response) {
    const { statusCode, executedVersion, functionError, payload } = input.response;
    record.responseContext = { statusCode, executedVersion, ...(functionError === undefined ? {} : { functionError }) };
    record.responsePayload = payload;
  }
  return record;
}
