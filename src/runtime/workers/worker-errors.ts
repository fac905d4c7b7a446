import { DomainError, ERROR_CODES, isDomainError, type ErrorCode } from '../../core/errors.ts';

/**
 * An error as it crosses a worker thread's message port: structured cloning
 * keeps neither the DomainError class nor its code, so both sides agree on
 * this plain shape, and a code the receiver does not know becomes Internal.
 */
export interface WorkerFailure {
  code?: string;
  message: string;
  details?: Record<string, unknown>;
}

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/** In the worker: what to post for `error`. */
export function failureOf(error: unknown): WorkerFailure {
  return isDomainError(error)
    ? { code: error.code, message: error.message, details: { ...error.details } }
    : { message: error instanceof Error ? error.message : String(error) };
}

/** On the other side: the DomainError the worker threw, code included. */
export function errorOf(failure: WorkerFailure): DomainError {
  const code: ErrorCode = failure.code && KNOWN_CODES.has(failure.code) ? (failure.code as ErrorCode) : 'Internal';
  return new DomainError(code, failure.message, failure.details ?? {});
}
