import type { ErrorCode } from '../../core/errors.ts';
import type { WireError } from './wire-error.ts';

/** DomainError codes → Kennel REST errors: `{ "code", "message", "details" }` with a fitting HTTP status. */
const STATUS: Record<ErrorCode, number> = {
  ValidationError: 400,
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  LimitExceeded: 429,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  ModelError: 424,
  UrlRefused: 400,
  UrlFetchFailed: 424,
  ServiceUnavailable: 503,
  MissingAuthenticationToken: 403,
  UnrecognizedClient: 403,
  IncompleteSignature: 400,
  InvalidSignature: 403,
  ExpiredToken: 403,
  MalformedPolicyDocument: 400,
  AccessDenied: 403,
  Offline: 503,
  Internal: 500,
};

export function kennelError(code: ErrorCode, message: string, details: Readonly<Record<string, unknown>>): WireError {
  const body: Record<string, unknown> = { code, message };
  if (code !== 'Internal' && Object.keys(details).length > 0) body.details = details;
  return { status: STATUS[code], type: code, body };
}
