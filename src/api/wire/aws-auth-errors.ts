/**
 * How every AWS service answers a request it cannot authenticate: the same
 * error types and statuses whatever the service, so each wire mapping takes
 * these rows from here.
 */
export const AWS_AUTH_ERRORS = {
  MissingAuthenticationToken: { status: 403, type: 'MissingAuthenticationTokenException' },
  UnrecognizedClient: { status: 403, type: 'UnrecognizedClientException' },
  IncompleteSignature: { status: 400, type: 'IncompleteSignatureException' },
  InvalidSignature: { status: 403, type: 'InvalidSignatureException' },
  ExpiredToken: { status: 403, type: 'ExpiredTokenException' },
} as const;
