import type { ErrorCode } from '../../core/errors.ts';
import { AWS_AUTH_ERRORS } from './aws-auth-errors.ts';
import type { JsonError } from '../aws/json-protocol.ts';

/**
 * DomainError codes → SageMaker control-plane errors (JSON 1.1). SageMaker
 * answers a missing or duplicate model, endpoint config or endpoint with
 * ValidationException ("Could not find …", "Cannot create already existing …"),
 * and the SDK waiters rely on it; operations that declare ResourceNotFound or
 * ResourceInUse say so per operation.
 */
const MAPPING: Record<ErrorCode, { status: number; type: string }> = {
  ValidationError: { status: 400, type: 'ValidationException' },
  NotFound: { status: 400, type: 'ValidationException' },
  AlreadyExists: { status: 400, type: 'ValidationException' },
  Conflict: { status: 400, type: 'ValidationException' },
  LimitExceeded: { status: 400, type: 'ResourceLimitExceeded' },
  PayloadTooLarge: { status: 413, type: 'ValidationException' },
  UnsupportedMediaType: { status: 400, type: 'ValidationException' },
  ModelError: { status: 400, type: 'ValidationException' },
  UrlRefused: { status: 400, type: 'ValidationException' },
  UrlFetchFailed: { status: 400, type: 'ValidationException' },
  ServiceUnavailable: { status: 503, type: 'ServiceUnavailable' },
  ...AWS_AUTH_ERRORS,
  MalformedPolicyDocument: { status: 400, type: 'ValidationException' },
  AccessDenied: { status: 400, type: 'AccessDeniedException' },
  Offline: { status: 503, type: 'ServiceUnavailable' },
  Internal: { status: 500, type: 'InternalFailure' },
};

export function sageMakerError(code: ErrorCode, message: string): JsonError {
  return { ...MAPPING[code], message };
}
