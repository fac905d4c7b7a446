import type { Context } from 'hono';
import { DomainError, type ErrorCode } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ApiEnv } from '../env.ts';
import type { ServiceModel } from './service-model.ts';
import { formatViolations, validateInput, type ValidationOptions } from './shape-validator.ts';

/** An error as AWS's JSON protocols send it: `x-amzn-ErrorType`, and `{"__type", "message"}` in the body. */
export interface JsonError {
  status: number;
  type: string;
  message: string;
}

export interface JsonOperation {
  /** Called with the request body once it has passed the model's checks; handlers type the members they read. */
  handler: (input: never, context: Context<ApiEnv>) => unknown;
  /** Error types this operation declares instead of the service's defaults (CreateTrainingJob: ResourceInUse). */
  errors?: Partial<Record<ErrorCode, string>>;
}

/** One AWS service on the JSON 1.0/1.1 protocol: `POST /` with `X-Amz-Target: <targetPrefix>.<Operation>`. */
export interface JsonService {
  targetPrefix: string;
  /** The SigV4 service name its requests are signed for. */
  signingName: string;
  model: ServiceModel;
  operations: Readonly<Record<string, JsonOperation>>;
  /** DomainError codes → the service's error types and HTTP statuses. */
  errorFor(code: ErrorCode, message: string): JsonError;
  validation?: ValidationOptions;
}

export const AMZ_JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** The client's error, in the shapes every AWS JSON service uses for requests it cannot read. */
export function protocolError(type: 'UnknownOperationException' | 'SerializationException' | 'ValidationException', message: string): JsonError {
  return { status: 400, type, message };
}

export function sendJsonError(c: Context, error: JsonError): Response {
  c.header('x-amzn-ErrorType', error.type);
  c.header('content-type', AMZ_JSON_CONTENT_TYPE);
  return c.body(JSON.stringify({ __type: error.type, message: error.message, Message: error.message }), error.status as 400);
}

/**
 * Runs one JSON-protocol call whose signature has been verified: parse the body,
 * check it against the service model, authorise it (which needs the parsed
 * input: the resource is named in the body), call the operation, and answer in
 * the protocol's own format, errors included.
 */
export async function dispatchJsonOperation(
  c: Context<ApiEnv>,
  service: JsonService,
  operationName: string,
  logger: Logger,
  authorize: (operationName: string, input: Record<string, unknown>) => void,
): Promise<Response> {
  const operation = Object.hasOwn(service.operations, operationName) ? service.operations[operationName] : undefined;
  const modelled = service.model.operations[operationName];
  if (!operation || !modelled) {
    return sendJsonError(c, protocolError('UnknownOperationException', `Operation ${service.targetPrefix}.${operationName} is not supported by this server`));
  }
  let input: unknown;
  const text = await c.req.text();
  try {
    input = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return sendJsonError(c, protocolError('SerializationException', 'The request body is not valid JSON'));
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return sendJsonError(c, protocolError('SerializationException', 'The request body must be a JSON object'));
  }
  if (modelled.input) {
    const outcome = validateInput(service.model, modelled.input.shape, input, service.validation);
    if (!outcome.ok) {
      return sendJsonError(
        c,
        outcome.kind === 'serialization'
          ? protocolError('SerializationException', outcome.message)
          : protocolError('ValidationException', formatViolations(outcome.violations, outcome.violationCount)),
      );
    }
  }
  try {
    authorize(operationName, input as Record<string, unknown>);
    const output = await operation.handler(input as never, c);
    c.header('content-type', AMZ_JSON_CONTENT_TYPE);
    return c.body(JSON.stringify(output ?? {}), 200);
  } catch (error) {
    return sendJsonError(c, toJsonError(error, service, operation, c, logger));
  }
}

function toJsonError(error: unknown, service: JsonService, operation: JsonOperation, c: Context<ApiEnv>, logger: Logger): JsonError {
  if (error instanceof DomainError) {
    const mapped = service.errorFor(error.code, error.message);
    const declared = operation.errors?.[error.code];
    return declared ? { ...mapped, type: declared } : mapped;
  }
  const requestId = c.get('requestId') ?? 'unknown';
  logger.error('unhandled error while serving a request', {
    requestId,
    target: c.req.header('x-amz-target'),
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return service.errorFor('Internal', `An internal error occurred (request id ${requestId}); the server log has the details`);
}
