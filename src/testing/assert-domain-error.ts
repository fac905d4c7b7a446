import assert from 'node:assert/strict';
import { DomainError, type ErrorCode, isDomainError } from '../core/errors.ts';

export interface ExpectedDomainError {
  /** What the message must say. */
  message?: RegExp;
  /** The field the error names in its details. */
  field?: string;
}

function check(error: unknown, code: ErrorCode, expected: ExpectedDomainError): true {
  assert.ok(isDomainError(error), `expected a DomainError, got ${String(error)}`);
  assert.equal(error.code, code);
  if (expected.message) assert.match(error.message, expected.message);
  if (expected.field !== undefined) assert.equal(error.details.field, expected.field);
  return true;
}

/** Asserts that `action` throws a DomainError with `code` (and the message and field given). */
export function assertDomainError(action: () => unknown, code: ErrorCode, expected: ExpectedDomainError = {}): void {
  assert.throws(action, (error: unknown) => check(error, code, expected));
}

/** Asserts that `action` rejects with a DomainError with `code` (and the message and field given). */
export async function assertRejectsWithDomainError(action: Promise<unknown>, code: ErrorCode, expected: ExpectedDomainError = {}): Promise<void> {
  await assert.rejects(action, (error: unknown) => check(error, code, expected));
}

/** The DomainError `run` throws, for tests that look at more than its code; fails when it throws nothing else or nothing. */
export function refusal(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
    return error;
  }
  assert.fail('accepted');
}
