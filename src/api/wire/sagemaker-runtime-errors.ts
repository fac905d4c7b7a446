import type { ErrorCode } from '../../core/errors.ts';
import { AWS_AUTH_ERRORS } from './aws-auth-errors.ts';
import type { WireError } from './wire-error.ts';

/**
 * DomainError codes → SageMaker Runtime (restJson1) errors. The AWS SDKs read the
 * error type from `x-amzn-ErrorType` and the members from the JSON body, where
 * the SageMaker models spell them with a capital letter (Message,
 * OriginalStatusCode, OriginalMessage); `message` is added for clients that read
 * the lower-case form.
 *
 * Failures of the model container's own input handling (an image it cannot
 * decode, a URL it refuses or cannot fetch) are ModelError 424 carrying the
 * container's status, as SageMaker reports them.
 */
const MAPPING: Record<ErrorCode, { status: number; type: string; originalStatusCode?: number }> = {
  ValidationError: { status: 400, type: 'ValidationError' },
  NotFound: { status: 400, type: 'ValidationError' },
  AlreadyExists: { status: 400, type: 'ValidationError' },
  Conflict: { status: 400, type: 'ValidationError' },
  LimitExceeded: { status: 429, type: 'ThrottlingException' },
  PayloadTooLarge: { status: 413, type: 'ValidationError' },
  UnsupportedMediaType: { status: 424, type: 'ModelError', originalStatusCode: 415 },
  ModelError: { status: 424, type: 'ModelError', originalStatusCode: 400 },
  UrlRefused: { status: 424, type: 'ModelError', originalStatusCode: 403 },
  UrlFetchFailed: { status: 424, type: 'ModelError', originalStatusCode: 502 },
  ServiceUnavailable: { status: 503, type: 'ServiceUnavailable' },
  ...AWS_AUTH_ERRORS,
  MalformedPolicyDocument: { status: 400, type: 'ValidationError' },
  AccessDenied: { status: 403, type: 'AccessDeniedException' },
  Offline: { status: 503, type: 'ServiceUnavailable' },
  Internal: { status: 500, type: 'InternalFailure' },
};

export function sageMakerRuntimeError(code: ErrorCode, message: string, details: Readonly<Record<string, unknown>>): WireError {
  const { status, type, originalStatusCode } = MAPPING[code];
  const body: Record<string, unknown> = { __type: type, Message: message, message };
  if (type === 'ModelError') {
    const original = typeof details.originalStatusCode === 'number' ? details.originalStatusCode : originalStatusCode;
    body.OriginalStatusCode = original;
    // An inference script's own error message, where the container gave one; else Kennel's account of the failure.
    body.OriginalMessage = typeof details.originalMessage === 'string' ? details.originalMessage : message;
  }
  return { status, type, body };
}
