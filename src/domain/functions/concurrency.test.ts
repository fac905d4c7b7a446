import assert from 'node:assert/strict';
import { refusal } from '../../testing/assert-domain-error.ts';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import {
  accountSettings,
  checkProvisionedConcurrency,
  checkReservedConcurrency,
  decideAdmission,
  DEFAULT_CONCURRENCY,
  unreservedConcurrency,
  type Admission,
  type ConcurrencyState,
} from './concurrency.ts';

const map = (entries: Record<string, number> = {}) => new Map(Object.entries(entries));
const state = (parts: { reserved?: Record<string, number>; inFlight?: Record<string, number>; provisioned?: Record<string, number>; provisionedBusy?: Record<string, number> }): ConcurrencyState => ({
  reserved: map(parts.reserved),
  inFlight: map(parts.inFlight),
  ...(parts.provisioned ? { provisioned: map(parts.provisioned) } : {}),
  ...(parts.provisionedBusy ? { provisionedBusy: map(parts.provisionedBusy) } : {}),
});

describe('decideAdmission', () => {
  const small = { accountLimit: 10, minimumUnreserved: 2 };
  type Case = [string, ConcurrencyState, string, number, 'provisioned' | 'on-demand' | Extract<Admission, { admit: false }>['reason']];
  const cases: Case[] = [
    ['the reference function below its reservation of 5', state({ reserved: { dogs: 5 }, inFlight: { dogs: 4 } }), 'dogs', 0, 'on-demand'],
    ['the reference function at 5', state({ reserved: { dogs: 5 }, inFlight: { dogs: 5 } }), 'dogs', 0, 'ReservedFunctionConcurrentInvocationLimitExceeded'],
    ['reserved 0 throttles everything', state({ reserved: { off: 0 } }), 'off', 0, 'ReservedFunctionConcurrentInvocationLimitExceeded'],
    ['a reservation is a floor: the pool may be full', state({ reserved: { dogs: 5 }, inFlight: { other: 5, dogs: 1 } }), 'dogs', 0, 'on-demand'],
    ['an unreserved function shares limit − Σ reserved', state({ reserved: { dogs: 5 }, inFlight: { a: 3, b: 1 } }), 'a', 0, 'on-demand'],
    ['the pool is full', state({ reserved: { dogs: 5 }, inFlight: { a: 3, b: 2 } }), 'b', 0, 'ConcurrentInvocationLimitExceeded'],
    ['reserved executions do not use the pool', state({ reserved: { dogs: 5 }, inFlight: { dogs: 5, a: 4 } }), 'a', 0, 'on-demand'],
    ['a new function joins a full pool: throttled', state({ inFlight: { a: 10 } }), 'new', 0, 'ConcurrentInvocationLimitExceeded'],
    ['an idle provisioned environment always takes it', state({ reserved: { dogs: 5 }, inFlight: { dogs: 5 }, provisioned: { dogs: 2 } }), 'dogs', 1, 'provisioned'],
    ['on-demand inside a reservation stops at R − provisioned', state({ reserved: { dogs: 5 }, inFlight: { dogs: 3 }, provisioned: { dogs: 2 }, provisionedBusy: { dogs: 0 } }), 'dogs', 0, 'ReservedFunctionConcurrentInvocationLimitExceeded'],
    ['executions on provisioned environments leave the on-demand room', state({ reserved: { dogs: 5 }, inFlight: { dogs: 4 }, provisioned: { dogs: 2 }, provisionedBusy: { dogs: 2 } }), 'dogs', 0, 'on-demand'],
    ['provisioned concurrency of an unreserved function is taken from the pool', state({ inFlight: { a: 7 }, provisioned: { b: 3 } }), 'a', 0, 'ConcurrentInvocationLimitExceeded'],
    ['its busy provisioned environments are not counted twice', state({ inFlight: { a: 6, b: 3 }, provisioned: { b: 3 }, provisionedBusy: { b: 3 } }), 'a', 0, 'on-demand'],
  ];
  for (const [name, observed, functionName, idleProvisioned, expected] of cases) {
    it(name, () => {
      const admission = decideAdmission(observed, small, functionName, { idleProvisioned });
      if (expected === 'provisioned' || expected === 'on-demand') assert.deepEqual(admission, { admit: true, environment: expected });
      else assert.deepEqual(admission, { admit: false, reason: expected, retryAfterSeconds: 1, message: 'Rate Exceeded.' });
    });
  }
  it('works on the plain shape (reserved and in-flight only) with the defaults', () => {
    assert.deepEqual(decideAdmission({ reserved: new Map(), inFlight: new Map([['a', 999]]) }, DEFAULT_CONCURRENCY, 'a'), { admit: true, environment: 'on-demand' });
    assert.equal(decideAdmission({ reserved: new Map(), inFlight: new Map([['a', 1000]]) }, DEFAULT_CONCURRENCY, 'a').admit, false);
  });
});

describe('unreservedConcurrency', () => {
  it('is the limit less reservations and the provisioned concurrency of unreserved functions', () => {
    assert.equal(unreservedConcurrency(DEFAULT_CONCURRENCY, { reserved: map({ a: 5, b: 100 }) }), 895);
    assert.equal(unreservedConcurrency(DEFAULT_CONCURRENCY, { reserved: map({ a: 5 }), provisioned: map({ a: 5, c: 10 }) }), 985);
  });
});

describe('checkReservedConcurrency', () => {
  const account = { reserved: map({ other: 800 }), provisioned: map({ dogs: 2, free: 48 }) };
  const accepted: [string, string, number][] = [
    ['the reference reservation', 'dogs', 5],
    ['0, to stop a function', 'stop', 0],
    ['up to the minimum left unreserved (1000 − 800 − 50 provisioned elsewhere − 100)', 'new', 50],
    ['replacing the function’s own reservation', 'other', 850],
  ];
  for (const [name, functionName, value] of accepted) it(`accepts ${name}`, () => checkReservedConcurrency(DEFAULT_CONCURRENCY, account, functionName, value));

  const refused: [string, string, number, string, RegExp][] = [
    ['a negative value', 'dogs', -1, 'ValidationException', /^1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0$/],
    ['one over the minimum', 'new', 51, 'InvalidParameterValueException', /^Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of \[100\]\.$/],
    ['more than the account limit', 'new', 1001, 'InvalidParameterValueException', /below its minimum value of \[100\]/],
    ['less than the provisioned concurrency configured', 'dogs', 1, 'InvalidParameterValueException', /^ReservedConcurrentExecutions 1 should not be lower than function's total provisioned concurrency \[2\]\.$/],
  ];
  for (const [name, functionName, value, lambdaError, message] of refused) {
    it(`refuses ${name}`, () => {
      const error = refusal(() => checkReservedConcurrency(DEFAULT_CONCURRENCY, account, functionName, value));
      assert.equal(error.code, 'ValidationError');
      assert.equal(error.details.lambdaError, lambdaError);
      assert.equal(error.details.field, 'ReservedConcurrentExecutions');
      assert.match(error.message, message);
    });
  }
  it('honours a configured minimum', () => {
    checkReservedConcurrency({ accountLimit: 20, minimumUnreserved: 0 }, { reserved: new Map() }, 'a', 20);
    assert.match(refusal(() => checkReservedConcurrency({ accountLimit: 20, minimumUnreserved: 0 }, { reserved: new Map() }, 'a', 21)).message, /minimum value of \[0\]/);
  });
});

describe('checkProvisionedConcurrency', () => {
  const account = { reserved: map({ dogs: 5, big: 850 }), provisioned: map({ dogs: 2, free: 20 }) };
  const accepted: [string, string, number, number][] = [
    ['inside the reservation', 'dogs', 3, 0],
    ['replacing a qualifier’s own config', 'dogs', 5, 2],
    ['from the pool, leaving exactly the minimum (1000 − 855 − 20 − 100)', 'free', 45, 20],
  ];
  for (const [name, functionName, requested, current] of accepted) {
    it(`accepts ${name}`, () => checkProvisionedConcurrency(DEFAULT_CONCURRENCY, account, functionName, { requested, current }));
  }
  const refused: [string, string, number, number, string, RegExp][] = [
    ['0', 'dogs', 0, 0, 'ValidationException', /^1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1$/],
    ['more than the reservation, counting the other qualifiers', 'dogs', 4, 0, 'InvalidParameterValueException', /^Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function$/],
    ['a pool below its minimum', 'free', 46, 20, 'InvalidParameterValueException', /^Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of \[100\]\.$/],
    ['a new function taking the pool below its minimum', 'new', 26, 0, 'InvalidParameterValueException', /below its minimum value/],
  ];
  for (const [name, functionName, requested, current, lambdaError, message] of refused) {
    it(`refuses ${name}`, () => {
      const error = refusal(() => checkProvisionedConcurrency(DEFAULT_CONCURRENCY, account, functionName, { requested, current }));
      assert.equal(error.details.lambdaError, lambdaError);
      assert.match(error.message, message);
    });
  }
});

describe('accountSettings', () => {
  it('reports GetAccountSettings in Lambda member names', () => {
    assert.deepEqual(accountSettings(DEFAULT_CONCURRENCY, { reserved: map({ dogs: 5 }) }, { totalCodeSize: 1234, functionCount: 2 }), {
      AccountLimit: { TotalCodeSize: 80530636800, CodeSizeUnzipped: 262144000, CodeSizeZipped: 52428800, ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 995 },
      AccountUsage: { TotalCodeSize: 1234, FunctionCount: 2 },
    });
  });
  it('reports a configured limit and code limits', () => {
    const settings = accountSettings({ accountLimit: 50, minimumUnreserved: 10 }, { reserved: new Map() }, { totalCodeSize: 0, functionCount: 0 }, { codeSizeZipped: 1, codeSizeUnzipped: 2, totalCodeSize: 3 });
    assert.deepEqual(settings.AccountLimit, { TotalCodeSize: 3, CodeSizeUnzipped: 2, CodeSizeZipped: 1, ConcurrentExecutions: 50, UnreservedConcurrentExecutions: 50 });
  });
});
