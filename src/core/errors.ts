/**
 * The one error type domain and runtime code throws. The code is stable and
 * machine-readable; each wire format (SageMaker, Kennel REST, CLI) maps it in
 * exactly one place. The message is for people: it says what was wrong and,
 * where it can, how to fix it.
 */
export const ERROR_CODES = [
  'ValidationError', // the request or spec is malformed
  'NotFound', // the named resource does not exist
  'AlreadyExists', // a resource with that name exists already
  'Conflict', // the resource is not in a state that allows the operation
  'LimitExceeded', // the operation would go over a limit of the account or this machine
  'PayloadTooLarge', // the request body is over the operation's limit
  'UnsupportedMediaType', // a content type the operation does not accept
  'ModelError', // the model (or its input handling) failed on this input
  'UrlRefused', // a URL the server will not fetch (scheme, host or address)
  'UrlFetchFailed', // an allowed URL could not be fetched
  'ServiceUnavailable', // the resource exists but cannot serve right now
  'MissingAuthenticationToken', // no credentials on the request
  'UnrecognizedClient', // unknown access key
  'IncompleteSignature', // the signature is malformed or lacks a part it needs
  'InvalidSignature', // signature, body hash or clock skew wrong
  'ExpiredToken', // session token expired
  'AccessDenied', // authenticated but not allowed
  'MalformedPolicyDocument', // a policy that is not valid policy JSON, or breaks the grammar
  'Offline', // the operation needs a network this machine does not reach
  'Internal', // a bug: never carries internals to the caller
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}

/** Short description of an unknown thrown value, for logs and failure reasons. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
