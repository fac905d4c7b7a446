import assert from 'node:assert/strict';
import { type ErrorCode, isDomainError } from '../core/errors.ts';

/** Asserts that `action` throws a DomainError with `code`. */
export function assertDomainError(action: () => unknown, code: ErrorCode): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(isDomainError(error), `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}
