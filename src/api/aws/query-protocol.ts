import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { DomainError, type ErrorCode } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ApiEnv } from '../env.ts';
import { readQueryInput } from './query-input.ts';
import { queryErrorXml, queryResponseXml } from './query-xml.ts';
import type { ServiceModel } from './service-model.ts';

/** An error as the query protocol sends it: `<ErrorResponse><Error><Type/><Code/><Message/></Error>`. */
export interface QueryError {
  status: number;
  code: string;
  message: string;
  /** Whose fault it is; without it, statuses under 500 are the sender's. */
  type?: 'Sender' | 'Receiver';
}

export interface QueryOperation {
  /** Called with the decoded input once it has passed the model's checks; handlers type the members they read. */
  handler: (input: never, context: Context<ApiEnv>) => unknown;
}

/** One AWS service on the query protocol (IAM, STS): form parameters `Action=<Operation>&Version=<apiVersion>&...`, XML answers. */
export interface QueryService {
  /** The SigV4 service name its requests are signed for. */
  signingName: string;
  model: ServiceModel;
  operations: Readonly<Record<string, QueryOperation>>;
  /** DomainError codes → the service's error codes and HTTP statuses; `ValidationError` also carries inputs the model refuses. */
  errorFor(code: ErrorCode, message: string): QueryError;
}

export const QUERY_CONTENT_TYPE = 'text/xml';

/**
 * The request's parameters: the query string of a GET, the form body of a POST.
 * Reading the body again after the SigV4 check is fine: hono keeps it.
 */
export async function readQueryParams(c: Context): Promise<URLSearchParams> {
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return new URL(c.req.url).searchParams;
  return new URLSearchParams(await c.req.text());
}

export function sendQueryError(c: Context<ApiEnv>, service: QueryService, error: QueryError): Response {
  const type = error.type ?? (error.status < 500 ? 'Sender' : 'Receiver');
  c.header('content-type', QUERY_CONTENT_TYPE);
  // Not part of the query protocol, which puts the code in the XML; it lets the audit trail read the code as for the other protocols.
  c.header('x-amzn-ErrorType', error.code);
  return c.body(queryErrorXml(service.model, { type, code: error.code, message: error.message }, requestIdOf(c)), error.status as 400);
}

/**
 * Runs one query-protocol call whose signature has been verified: find the
 * operation from Action and Version, decode and check its input, authorise it,
 * call it, and answer in XML, errors included.
 *
 * Action and Version are checked as AWS's query services check them: without
 * Action the answer is MissingAction; an Action the service does not have, or a
 * Version other than the model's (an absent one reads NO_VERSION_SPECIFIED), is
 * InvalidAction "Could not find operation X for version V", both 400.
 */
export async function dispatchQueryOperation(
  c: Context<ApiEnv>,
  service: QueryService,
  params: URLSearchParams,
  logger: Logger,
  authorize: (operationName: string, input: Record<string, unknown>) => void,
): Promise<Response> {
  const action = params.get('Action');
  if (!action) {
    const message = `Missing Action: the request needs Action=<operation>&Version=${service.model.metadata.apiVersion}`;
    return sendQueryError(c, service, { status: 400, code: 'MissingAction', message });
  }
  const version = params.get('Version') || 'NO_VERSION_SPECIFIED';
  const operation = Object.hasOwn(service.operations, action) ? service.operations[action] : undefined;
  const modelled = Object.hasOwn(service.model.operations, action) ? service.model.operations[action] : undefined;
  if (!operation || !modelled || version !== service.model.metadata.apiVersion) {
    return sendQueryError(c, service, { status: 400, code: 'InvalidAction', message: `Could not find operation ${action} for version ${version}` });
  }
  let input: Record<string, unknown> = {};
  if (modelled.input) {
    const decoded = readQueryInput(service.model, modelled.input.shape, params);
    if (!decoded.ok) return sendQueryError(c, service, service.errorFor('ValidationError', decoded.message));
    input = decoded.input;
  }
  try {
    authorize(action, input);
    const output = await operation.handler(input as never, c);
    // Inside the try: an output the model cannot serialize is a bug, answered like any other.
    const xml = queryResponseXml(service.model, action, output, requestIdOf(c));
    c.header('content-type', QUERY_CONTENT_TYPE);
    return c.body(xml, 200);
  } catch (error) {
    return sendQueryError(c, service, toQueryError(error, service, action, c, logger));
  }
}

function toQueryError(error: unknown, service: QueryService, action: string, c: Context<ApiEnv>, logger: Logger): QueryError {
  if (error instanceof DomainError) return service.errorFor(error.code, error.message);
  const requestId = requestIdOf(c);
  logger.error('unhandled error while serving a request', {
    requestId,
    action,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return service.errorFor('Internal', `An internal error occurred (request id ${requestId}); the server log has the details`);
}

/** The request-id middleware's id, made here when it did not run: every query document carries one. */
function requestIdOf(c: Context<ApiEnv>): string {
  const id = c.get('requestId') || randomUUID();
  c.set('requestId', id);
  c.header('x-amzn-RequestId', id);
  return id;
}
