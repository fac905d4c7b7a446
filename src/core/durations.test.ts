import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertDomainError } from '../testing/assert-domain-error.ts';
import { parseDurationSeconds } from './durations.ts';

describe('durations on the command line', () => {
  const cases: [string, number][] = [
    ['90', 90],
    ['90s', 90],
    ['1.5s', 1.5],
    ['500ms', 0.5],
    ['2m', 120],
    ['1m30s', 90],
    ['7d', 604_800],
    ['1h', 3600],
    [' 20s ', 20],
  ];
  for (const [text, seconds] of cases) it(`${text} is ${seconds} s`, () => assert.equal(parseDurationSeconds(text, '--duration'), seconds));

  for (const text of ['', 'soon', '10 minutes', '1w', '-5s', 's', '1m30']) {
    it(`refuses "${text}", naming the flag`, () =>
      assertDomainError(() => parseDurationSeconds(text, '--duration'), 'ValidationError', { message: /^--duration: .*; write it like 90s, 500ms, 2m, 1m30s or 7d$/, field: 'duration' }));
  }
  it('refuses zero', () => assertDomainError(() => parseDurationSeconds('0s', '--for'), 'ValidationError', { message: /^--for: must be more than zero/ }));
});
