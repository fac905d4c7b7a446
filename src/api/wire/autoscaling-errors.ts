import type { ErrorCode } from '../../core/errors.ts';
import type { JsonError } from '../aws/json-protocol.ts';
import { AWS_AUTH_ERRORS } from './aws-auth-errors.ts';

/**
 * DomainError codes → Application Auto Scaling errors (JSON 1.1), the types its service model
 * declares: a missing target or policy is ObjectNotFoundException; an unsupported namespace,
 * dimension or resource, or a variant that does not exist, is ValidationException, as AWS answers.
 */
const MAPPING: Record<ErrorCode, { status: number; type: string }> = {
  ValidationError: { status: 400, type: 'ValidationException' },
  NotFound: { status: 400, type: 'ObjectNotFoundException' },
  AlreadyExists: { status: 400, type: 'ValidationException' },
  Conflict: { status: 400, type: 'ConcurrentUpdateException' },
  LimitExceeded: { status: 400, type: 'LimitExceededException' },
  PayloadTooLarge: { status: 413, type: 'ValidationException' },
  UnsupportedMediaType: { status: 400, type: 'ValidationException' },
  ModelError: { status: 400, type: 'ValidationException' },
  UrlRefused: { status: 400, type: 'ValidationException' },
  UrlFetchFailed: { status: 400, type: 'ValidationException' },
  ServiceUnavailable: { status: 400, type: 'FailedResourceAccessException' },
  ...AWS_AUTH_ERRORS,
  MalformedPolicyDocument: { status: 400, type: 'ValidationException' },
  AccessDenied: { status: 400, type: 'AccessDeniedException' },
  Offline: { status: 400, type: 'FailedResourceAccessException' },
  Internal: { status: 500, type: 'InternalServiceException' },
};

export function autoscalingError(code: ErrorCode, message: string): JsonError {
  return { ...MAPPING[code], message };
}
