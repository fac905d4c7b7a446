import assert from 'node:assert/strict';
import { refusal } from '../../testing/assert-domain-error.ts';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import {
  checkEventAge,
  decideAsyncAttempt,
  DEFAULT_ASYNC_RETRY,
  destinationRecord,
  LAMBDA_ASYNC_TIMING,
  validateEventInvokeConfig,
  type AsyncDecision,
  type AsyncEvent,
  type AsyncOutcome,
  type EventInvokeConfigInput,
} from './async-retry.ts';

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const scope = { region: 'us-east-1', accountId: '000000000000' };

describe('decideAsyncAttempt: one delivery', () => {
  const event = (attempts: number, deferrals = 0, ageMs = 0): AsyncEvent => ({ enqueuedAtMs: T0 - ageMs, attempts, deferrals });
  const cases: [string, AsyncEvent, AsyncOutcome, number, AsyncDecision][] = [
    ['success is done', event(0), 'success', 0, { kind: 'done', attempts: 1 }],
    ['the first function error waits a minute', event(0), 'function-error', 0, { kind: 'retry', atMs: T0 + MINUTE, attempts: 1, deferrals: 0 }],
    ['the second waits two', event(1), 'function-error', 0, { kind: 'retry', atMs: T0 + 2 * MINUTE, attempts: 2, deferrals: 0 }],
    ['the third exhausts the default two retries', event(2), 'function-error', 0, { kind: 'failed', condition: 'RetriesExhausted', attempts: 3 }],
    ['a throttle does not use an attempt, and waits about a second', event(1), 'throttled', 0.5, { kind: 'retry', atMs: T0 + 900, attempts: 1, deferrals: 1 }],
    ['the backoff doubles', event(1, 3), 'system-error', 0.9999999, { kind: 'retry', atMs: T0 + 8000, attempts: 1, deferrals: 4 }],
    ['and stops at five minutes', event(0, 20), 'throttled', 0.9999999, { kind: 'retry', atMs: T0 + 300_000, attempts: 0, deferrals: 21 }],
    ['with jitter below the step only', event(0, 20), 'throttled', 0, { kind: 'retry', atMs: T0 + 240_000, attempts: 0, deferrals: 21 }],
    ['a throttle past the maximum age fails now', event(0, 20, 21_600_000 - 200_000), 'throttled', 0.9999999, { kind: 'failed', condition: 'EventAgeExceeded', attempts: 0 }],
    ['a function error whose retry would come too late', event(0, 0, 21_600_000 - 30_000), 'function-error', 0, { kind: 'failed', condition: 'EventAgeExceeded', attempts: 1 }],
    ['reserved concurrency 0 sends the event on at once', event(0, 5), 'throttled-reserved-zero', 0, { kind: 'failed', condition: 'RetriesExhausted', attempts: 0 }],
  ];
  for (const [name, e, outcome, random, expected] of cases) {
    it(name, () => assert.deepEqual(decideAsyncAttempt(e, outcome, DEFAULT_ASYNC_RETRY, T0, LAMBDA_ASYNC_TIMING, random), expected));
  }

  it('honours MaximumRetryAttempts 0 and a short event age', () => {
    assert.deepEqual(decideAsyncAttempt(event(0), 'function-error', { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 }, T0, LAMBDA_ASYNC_TIMING, 0), {
      kind: 'failed',
      condition: 'RetriesExhausted',
      attempts: 1,
    });
    assert.deepEqual(decideAsyncAttempt(event(0, 0, 1), 'function-error', { maximumRetryAttempts: 2, maximumEventAgeSeconds: 60 }, T0, LAMBDA_ASYNC_TIMING, 0), {
      kind: 'failed',
      condition: 'EventAgeExceeded',
      attempts: 1,
    });
  });
});

describe('decideAsyncAttempt: an event through its life, on a fake clock', () => {
  function replay(outcomes: AsyncOutcome[], timing = LAMBDA_ASYNC_TIMING) {
    let e: AsyncEvent = { enqueuedAtMs: T0, attempts: 0 };
    let now = T0;
    const trace: string[] = [];
    for (const outcome of outcomes) {
      const decision = decideAsyncAttempt(e, outcome, DEFAULT_ASYNC_RETRY, now, timing, 0.999999);
      if (decision.kind !== 'retry') {
        trace.push(decision.kind === 'failed' ? `${decision.condition} after ${decision.attempts}` : `done after ${decision.attempts}`);
        break;
      }
      trace.push(`+${Math.round((decision.atMs - now) / 1000)}s`);
      now = decision.atMs;
      e = { ...e, attempts: decision.attempts, deferrals: decision.deferrals };
    }
    return trace;
  }
  it('runs three times on function errors, throttles in between using no attempt', () => {
    assert.deepEqual(replay(['throttled', 'throttled', 'function-error', 'throttled', 'function-error', 'function-error']), [
      '+1s',
      '+2s',
      '+60s',
      '+4s',
      '+120s',
      'RetriesExhausted after 3',
    ]);
  });
  it('a success on the last retry is done', () => {
    assert.deepEqual(replay(['function-error', 'function-error', 'success']), ['+60s', '+120s', 'done after 3']);
  });
  it('a faster timing for tests keeps the same shape', () => {
    assert.deepEqual(replay(['function-error', 'throttled', 'function-error', 'function-error'], { functionErrorDelaysMs: [1000, 2000], throttleBaseMs: 1000, throttleCapMs: 1000 }), [
      '+1s',
      '+1s',
      '+2s',
      'RetriesExhausted after 3',
    ]);
  });
});

describe('checkEventAge', () => {
  it('delivers up to the maximum age, and not after', () => {
    const e = { enqueuedAtMs: T0, attempts: 1 };
    assert.deepEqual(checkEventAge(e, DEFAULT_ASYNC_RETRY, T0 + 21_600_000), { kind: 'deliver' });
    assert.deepEqual(checkEventAge(e, DEFAULT_ASYNC_RETRY, T0 + 21_600_001), { kind: 'failed', condition: 'EventAgeExceeded', attempts: 1 });
  });
});

describe('validateEventInvokeConfig', () => {
  const target = { functionName: 'dogs', scope };
  const destination = 'arn:aws:lambda:us-east-1:000000000000:function:failures';
  it('returns what the request sets', () => {
    assert.deepEqual(validateEventInvokeConfig({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 }, target), { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 });
    assert.deepEqual(
      validateEventInvokeConfig({ DestinationConfig: { OnFailure: { Destination: destination }, OnSuccess: { Destination: `${destination}:live` } } }, target),
      { onSuccess: `${destination}:live`, onFailure: destination },
    );
    assert.deepEqual(validateEventInvokeConfig({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600, DestinationConfig: { OnFailure: { Destination: '' } } }, target), {
      maximumRetryAttempts: 2,
      maximumEventAgeSeconds: 21600,
      onFailure: null,
    });
  });
  const cases: [string, EventInvokeConfigInput, string, RegExp][] = [
    ['nothing to set', {}, 'InvalidParameterValueException', /^You must specify at least one of error handling or destination setting\.$/],
    ['three retries', { MaximumRetryAttempts: 3 }, 'ValidationException', /^1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2$/],
    ['negative retries', { MaximumRetryAttempts: -1 }, 'ValidationException', /greater than or equal to 0$/],
    ['an event age under a minute', { MaximumEventAgeInSeconds: 59 }, 'ValidationException', /Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60$/],
    ['an event age over six hours', { MaximumEventAgeInSeconds: 21601 }, 'ValidationException', /less than or equal to 21600$/],
    ['a destination that is no ARN', { DestinationConfig: { OnFailure: { Destination: 'failures' } } }, 'ValidationException', /Value 'failures' at 'destinationConfig\.onFailure\.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: \^\$\|arn:/],
    ['an SQS queue', { DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:dlq' } } }, 'InvalidParameterValueException', /^Kennel delivers invocation records to Lambda functions only, and arn:aws:sqs:us-east-1:000000000000:dlq is an SQS queue\. Use a function ARN such as arn:aws:lambda:us-east-1:000000000000:function:my-destination\.$/],
    ['an SNS topic', { DestinationConfig: { OnSuccess: { Destination: 'arn:aws:sns:us-east-1:000000000000:done' } } }, 'InvalidParameterValueException', /is an SNS topic/],
    ['an event bus', { DestinationConfig: { OnSuccess: { Destination: 'arn:aws:events:us-east-1:000000000000:event-bus/default' } } }, 'InvalidParameterValueException', /is an EventBridge event bus/],
    ['a function of another region', { DestinationConfig: { OnFailure: { Destination: 'arn:aws:lambda:eu-west-1:000000000000:function:failures' } } }, 'InvalidParameterValueException', /^The destination ARN arn:aws:lambda:eu-west-1:000000000000:function:failures is invalid\. Functions from 'eu-west-1' are not reachable/],
    ['a layer', { DestinationConfig: { OnFailure: { Destination: 'arn:aws:lambda:us-east-1:000000000000:layer:x:1' } } }, 'InvalidParameterValueException', /^The destination ARN .* is invalid\./],
    ['the function itself', { DestinationConfig: { OnFailure: { Destination: 'arn:aws:lambda:us-east-1:000000000000:function:dogs:2' } } }, 'InvalidParameterValueException', /^You can't specify the function as a destination for itself\.$/],
  ];
  for (const [name, input, lambdaError, message] of cases) {
    it(`refuses ${name}`, () => {
      const error = refusal(() => validateEventInvokeConfig(input, target));
      assert.equal(error.code, 'ValidationError');
      assert.equal(error.details.lambdaError, lambdaError);
      assert.match(error.message, message);
    });
  }
});

describe('destinationRecord', () => {
  it('is the record Lambda sends after the retries are exhausted', () => {
    const record = destinationRecord({
      requestId: 'e4b46cbf-b738-4d7e-8880-a18cdf61200e',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dogs:$LATEST',
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
      timestampMs: Date.UTC(2026, 10, 24, 18, 16, 5, 568),
      requestPayload: { url: 'https://example.com/dog.jpg' },
      response: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled', payload: { errorType: 'Error', errorMessage: 'boom' } },
    });
    assert.equal(
      JSON.stringify(record),
      JSON.stringify({
        version: '1.0',
        timestamp: '2026-11-24T18:16:05.568Z',
        requestContext: {
          requestId: 'e4b46cbf-b738-4d7e-8880-a18cdf61200e',
          functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dogs:$LATEST',
          condition: 'RetriesExhausted',
          approximateInvokeCount: 3,
        },
        requestPayload: { url: 'https://example.com/dog.jpg' },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: { errorType: 'Error', errorMessage: 'boom' },
      }),
    );
  });
  it('a success carries no functionError', () => {
    const record = destinationRecord({
      requestId: 'r',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dogs:3',
      condition: 'Success',
      approximateInvokeCount: 1,
      timestampMs: 0,
      requestPayload: {},
      response: { statusCode: 200, executedVersion: '3', payload: { breed: 'Akita' } },
    });
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '3' });
    assert.deepEqual(record.responsePayload, { breed: 'Akita' });
  });
  it('an event that aged out without running has no response', () => {
    const record = destinationRecord({ requestId: 'r', functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dogs:$LATEST', condition: 'EventAgeExceeded', approximateInvokeCount: 0, timestampMs: 0, requestPayload: { a: 1 } });
    assert.deepEqual(Object.keys(record), ['version', 'timestamp', 'requestContext', 'requestPayload']);
  });
});
