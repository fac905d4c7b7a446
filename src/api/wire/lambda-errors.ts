import type { Context } from 'hono';
import type { DomainError, ErrorCode } from '../../core/errors.ts';
import type { RestJsonError, RestJsonProtocolFailure, RestJsonService } from '../aws/rest-json-protocol.ts';
import { loadServiceModel } from '../aws/service-model.ts';
import type { ApiEnv } from '../env.ts';
import { CONTROL_MAX_BYTES } from '../middleware/payload-limit/index.ts';
import { AWS_AUTH_ERRORS } from './aws-auth-errors.ts';

/**
 * Lambda's errors (REST-JSON): `x-amzn-ErrorType: <type>` and a body
 * `{"Type": "User" | "Service", "message", "Message", ...}`, with each
 * exception's status as Lambda's service model declares it. The SDKs take the
 * type from the header (botocore's RestJSONParser, @aws-sdk/core's
 * loadRestJsonErrorCode) and the exception's members from the body and its
 * header bindings: a throttle's `Reason` from the body, `retryAfterSeconds`
 * from `Retry-After`.
 */

/** What a DomainError's details may carry for Lambda. */
export interface LambdaErrorDetails {
  /**
   * Which of Lambda's exceptions the error is, where its code stands for
   * several: LimitExceeded is TooManyRequestsException unless this says
   * CodeStorageExceededException or PolicyLengthExceededException; Conflict is
   * ResourceConflictException unless PreconditionFailedException (a RevisionId
   * that no longer matches); ServiceUnavailable is ResourceNotReadyException
   * unless ServiceException; NotFound may be
   * ProvisionedConcurrencyConfigNotFoundException. Any exception Lambda's model
   * declares is taken; other names are ignored.
   */
  lambdaError?: string;
  /** TooManyRequestsException's Reason (a ThrottleReason: ReservedFunctionConcurrentInvocationLimitExceeded, ...). */
  reason?: string;
  /** TooManyRequestsException's Retry-After header, in seconds. */
  retryAfterSeconds?: number;
}

/** Invoke's synchronous payload limit, 6 MB, as Lambda's quotas give it. */
export const INVOKE_MAX_BYTES = 6 * 1024 * 1024;
/** An asynchronous (Event) invocation's payload limit, 1 MB. */
export const INVOKE_EVENT_MAX_BYTES = 1024 * 1024;
/**
 * A deployment package uploaded directly is at most 50 MB zipped; it travels
 * base64-encoded in the JSON body, and Lambda's limit on that body is this
 * (50 MiB × 4/3), as its RequestEntityTooLargeException for CreateFunction and
 * UpdateFunctionCode says.
 */
export const CODE_UPLOAD_MAX_BYTES = 69_905_067;

const model = loadServiceModel('lambda');

/** Every error type Kennel sends for Lambda, with its status: the model's exceptions, then the ones Lambda sends without declaring them. */
const STATUS = new Map<string, number>([
  ...Object.entries(model.shapes).flatMap(([name, shape]) => {
    const status = (shape as { error?: { httpStatusCode?: number } }).error?.httpStatusCode;
    return status === undefined ? [] : [[name, status] as const];
  }),
  ...Object.values(AWS_AUTH_ERRORS).map(({ type, status }) => [type, status] as const),
  // Constraint violations of the model, as Coral reports them ("1 validation error detected: ...").
  ['ValidationException', 400],
  ['AccessDeniedException', 403],
  ['UnknownOperationException', 404],
  // A body over the operation's limit, for operations other than a synchronous Invoke.
  ['RequestEntityTooLargeException', 413],
]);

const BY_CODE: Record<ErrorCode, string> = {
  ValidationError: 'InvalidParameterValueException',
  NotFound: 'ResourceNotFoundException',
  AlreadyExists: 'ResourceConflictException',
  Conflict: 'ResourceConflictException',
  LimitExceeded: 'TooManyRequestsException',
  PayloadTooLarge: 'RequestTooLargeException',
  UnsupportedMediaType: 'UnsupportedMediaTypeException',
  // Lambda has no error for a model's failure; it reaches a caller only through a bad parameter.
  ModelError: 'InvalidParameterValueException',
  UrlRefused: 'InvalidParameterValueException',
  UrlFetchFailed: 'InvalidParameterValueException',
  ServiceUnavailable: 'ResourceNotReadyException',
  MissingAuthenticationToken: AWS_AUTH_ERRORS.MissingAuthenticationToken.type,
  UnrecognizedClient: AWS_AUTH_ERRORS.UnrecognizedClient.type,
  IncompleteSignature: AWS_AUTH_ERRORS.IncompleteSignature.type,
  InvalidSignature: AWS_AUTH_ERRORS.InvalidSignature.type,
  ExpiredToken: AWS_AUTH_ERRORS.ExpiredToken.type,
  AccessDenied: 'AccessDeniedException',
  MalformedPolicyDocument: 'InvalidParameterValueException',
  // Retrying does not bring the network back: the caller's request cannot be served here.
  Offline: 'InvalidParameterValueException',
  Internal: 'ServiceException',
};

for (const type of Object.values(BY_CODE)) if (!STATUS.has(type)) throw new Error(`Lambda's model has no error ${type}`);

/** One of Lambda's errors, by type, with the members its shape has besides the message. */
export function lambdaErrorOfType(type: string, message: string, details: LambdaErrorDetails = {}): RestJsonError {
  const status = STATUS.get(type)!;
  const error: RestJsonError = { status, type, message, fields: { Type: status < 500 ? 'User' : 'Service' } };
  if (type === 'TooManyRequestsException') {
    if (typeof details.reason === 'string') error.fields!.Reason = details.reason;
    if (typeof details.retryAfterSeconds === 'number' && Number.isFinite(details.retryAfterSeconds)) {
      error.headers = { 'Retry-After': String(Math.max(0, Math.ceil(details.retryAfterSeconds))) };
    }
  }
  return error;
}

/** A DomainError as Lambda answers it: the type its details name, else the operation's declared one, else the code's. */
export function lambdaError(error: DomainError, declaredType?: string): RestJsonError {
  const details = error.details as LambdaErrorDetails;
  const type = [details.lambdaError, declaredType].find((candidate) => typeof candidate === 'string' && STATUS.has(candidate)) ?? BY_CODE[error.code];
  return lambdaErrorOfType(type, error.message, details);
}

export function lambdaProtocolError(failure: RestJsonProtocolFailure): RestJsonError {
  switch (failure.kind) {
    case 'UnknownOperation':
      return lambdaErrorOfType('UnknownOperationException', failure.message);
    case 'UnreadableBody':
      return lambdaErrorOfType('InvalidRequestContentException', `Could not parse request body into json: ${failure.message}`);
    case 'InvalidInput':
      return lambdaErrorOfType('ValidationException', failure.message);
    case 'BodyTooLarge':
      return bodyTooLarge(failure);
  }
}

/** Lambda's own words for each limit; it names Invoke by its older name, InvokeFunction. */
function bodyTooLarge({ operationName, maxBytes, contentLength }: Extract<RestJsonProtocolFailure, { kind: 'BodyTooLarge' }>): RestJsonError {
  if (operationName !== 'Invoke') {
    return lambdaErrorOfType('RequestEntityTooLargeException', `Request must be smaller than ${maxBytes} bytes for the ${operationName} operation`);
  }
  if (maxBytes === INVOKE_EVENT_MAX_BYTES) {
    const size = contentLength === undefined ? 'The' : `${contentLength} byte`;
    return lambdaErrorOfType('RequestEntityTooLargeException', `${size} payload is too large for the Event invocation type (limit ${maxBytes} bytes)`);
  }
  return lambdaErrorOfType('RequestTooLargeException', `Request must be smaller than ${maxBytes} bytes for the InvokeFunction operation`);
}

export function lambdaMaxBodyBytes(operationName: string, c: Context<ApiEnv>): number {
  if (operationName === 'Invoke') return c.req.header('x-amz-invocation-type') === 'Event' ? INVOKE_EVENT_MAX_BYTES : INVOKE_MAX_BYTES;
  if (operationName === 'CreateFunction' || operationName === 'UpdateFunctionCode') return CODE_UPLOAD_MAX_BYTES;
  return CONTROL_MAX_BYTES;
}

/** Lambda's side of a RestJsonService: `{ signingName: 'lambda', model, operations, ...lambdaWire }`. */
export const lambdaWire: Pick<RestJsonService, 'errorFor' | 'protocolError' | 'maxBodyBytes'> = {
  errorFor: lambdaError,
  protocolError: lambdaProtocolError,
  maxBodyBytes: lambdaMaxBodyBytes,
};
