import type { ErrorCode } from '../../core/errors.ts';
import type { QueryError } from '../aws/query-protocol.ts';

/**
 * DomainError codes → IAM's and STS's error codes (query protocol). Both
 * services answer a request they cannot authenticate with the query
 * protocol's own codes (InvalidClientTokenId, SignatureDoesNotMatch), not the
 * JSON services' exception names.
 */
const SHARED: Record<ErrorCode, { status: number; code: string }> = {
  ValidationError: { status: 400, code: 'ValidationError' },
  NotFound: { status: 404, code: 'NoSuchEntity' },
  AlreadyExists: { status: 409, code: 'EntityAlreadyExists' },
  Conflict: { status: 409, code: 'DeleteConflict' },
  LimitExceeded: { status: 409, code: 'LimitExceeded' },
  PayloadTooLarge: { status: 400, code: 'ValidationError' },
  UnsupportedMediaType: { status: 400, code: 'ValidationError' },
  ModelError: { status: 400, code: 'ValidationError' },
  UrlRefused: { status: 400, code: 'ValidationError' },
  UrlFetchFailed: { status: 400, code: 'ValidationError' },
  ServiceUnavailable: { status: 503, code: 'ServiceUnavailable' },
  MissingAuthenticationToken: { status: 403, code: 'MissingAuthenticationToken' },
  UnrecognizedClient: { status: 403, code: 'InvalidClientTokenId' },
  IncompleteSignature: { status: 400, code: 'IncompleteSignature' },
  InvalidSignature: { status: 403, code: 'SignatureDoesNotMatch' },
  ExpiredToken: { status: 403, code: 'ExpiredToken' },
  AccessDenied: { status: 403, code: 'AccessDenied' },
  MalformedPolicyDocument: { status: 400, code: 'MalformedPolicyDocument' },
  Offline: { status: 503, code: 'ServiceUnavailable' },
  Internal: { status: 500, code: 'ServiceFailure' },
};

export function iamError(code: ErrorCode, message: string): QueryError {
  return { ...SHARED[code], message };
}

/** STS names its internal error as the other services do; its only entity errors are about roles it cannot assume (AccessDenied). */
export function stsError(code: ErrorCode, message: string): QueryError {
  if (code === 'Internal') return { status: 500, code: 'InternalFailure', message };
  if (code === 'MalformedPolicyDocument') return { status: 400, code: 'MalformedPolicyDocument', message };
  return iamError(code, message);
}
