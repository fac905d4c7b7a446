import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status';
import { DomainError, type ErrorCode } from '../../core/errors.ts';
import { DEFAULT_REGION } from '../../domain/iam/arn.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiEnv } from '../env.ts';
import { payloadLimit } from '../middleware/payload-limit/index.ts';
import { sigv4 } from '../middleware/sigv4/index.ts';
import { readRestJsonInput } from './rest-json-input.ts';
import { httpBinding, messageBindings, type HttpBinding, type MessageBindings } from './rest-json-model.ts';
import { encodeRestJsonOutput } from './rest-json-output.ts';
import { RestRouter } from './rest-json-routes.ts';
import { getOperation, operationNames, type ServiceModel } from './service-model.ts';
import type { ValidationOptions } from './shape-validator.ts';

/**
 * AWS's REST-JSON protocol (Lambda): every operation at its model's HTTP
 * method and URI, its input spread over labels, query, headers and a JSON (or
 * raw) body, its output likewise, and errors as `x-amzn-ErrorType` plus a JSON
 * body.
 */

/** An error as REST-JSON services send it: `x-amzn-ErrorType: <type>`, and `{"message", "Message", ...fields}` in the body. */
export interface RestJsonError {
  status: number;
  type: string;
  message: string;
  /** Further members of the error's shape, in the body (Lambda: `Type`, a throttle's `Reason`). */
  fields?: Record<string, unknown>;
  /** Members of the error's shape bound to headers (Lambda: a throttle's `Retry-After`). */
  headers?: Record<string, string>;
}

export interface RestJsonOperation {
  /** Called with the decoded input once it has passed the model's checks and the authorizer; handlers type the members they read. */
  handler: (input: never, context: Context<ApiEnv>) => unknown;
  /** Error types this operation declares instead of the service's defaults, by DomainError code. */
  errors?: Partial<Record<ErrorCode, string>>;
}

/** What the protocol itself refuses before an operation runs. */
export type RestJsonProtocolFailure =
  /** No operation of the model at this method, path and query, or one the server does not implement. */
  | { kind: 'UnknownOperation'; message: string }
  /** The body is not JSON, not a JSON object, or has a member of the wrong JSON type. */
  | { kind: 'UnreadableBody'; message: string }
  /** Values the model's constraints refuse, in AWS's ValidationException wording. */
  | { kind: 'InvalidInput'; message: string }
  /** The body is over `maxBytes`; `contentLength` is the size the client declared, when it declared one. */
  | { kind: 'BodyTooLarge'; operationName: string; maxBytes: number; contentLength?: number };

export interface RestJsonService {
  /** The SigV4 service name its requests are signed for. */
  signingName: string;
  model: ServiceModel;
  operations: Readonly<Record<string, RestJsonOperation>>;
  /**
   * A DomainError (an operation's, the authorizer's or the signature check's)
   * in the service's terms; `declaredType` is the operation's own type for its
   * code, when it declares one. Takes the whole error: details can say which
   * of several errors a code stands for.
   */
  errorFor(error: DomainError, declaredType?: string): RestJsonError;
  protocolError(failure: RestJsonProtocolFailure): RestJsonError;
  /** The largest request body an operation takes; it may depend on the request's headers. */
  maxBodyBytes(operationName: string, c: Context<ApiEnv>): number;
  validation?: ValidationOptions;
}

/** Called once the input has passed the model's checks, before the handler; throws DomainError('AccessDenied') to refuse. */
export type RestJsonAuthorizer = (c: Context<ApiEnv>, operationName: string, input: Record<string, unknown>) => void | Promise<void>;

export type RestJsonDeps = Pick<ApiDeps, 'lookupSecret' | 'clock' | 'logger'>;

interface CompiledOperation {
  name: string;
  operation: RestJsonOperation;
  http: HttpBinding;
  inputShape?: string;
  input: MessageBindings;
  output: MessageBindings;
}

export function sendRestJsonError(c: Context, error: RestJsonError): Response {
  c.header('x-amzn-ErrorType', error.type);
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  c.header('content-type', 'application/json');
  // Error shapes spell the message `message` or `Message`; the SDKs read whichever their model names.
  return c.body(JSON.stringify({ ...error.fields, message: error.message, Message: error.message }), error.status as ContentfulStatusCode);
}

/**
 * The service's routes: every path under the first segments of its model's
 * URIs (Lambda's `/2015-03-31/...`, `/2017-10-31/...`, ...) is answered here,
 * an unknown one with the service's unknown-operation error. Per request:
 * find the operation, limit the body, verify SigV4 for `signingName`, read and
 * check the input, authorise, run the handler, write its output.
 */
export function restJsonRoutes(deps: RestJsonDeps, service: RestJsonService, authorize: RestJsonAuthorizer): Hono<ApiEnv> {
  const { model } = service;
  for (const name of Object.keys(service.operations)) getOperation(model, name);
  const router = new RestRouter(model);
  const operations = new Map<string, CompiledOperation>();
  for (const name of operationNames(model)) {
    const operation = Object.hasOwn(service.operations, name) ? service.operations[name] : undefined;
    if (!operation) continue;
    const modelled = getOperation(model, name);
    operations.set(name, {
      name,
      operation,
      http: httpBinding(model, name),
      inputShape: modelled.input?.shape,
      input: messageBindings(model, modelled.input?.shape),
      output: messageBindings(model, modelled.output?.shape),
    });
  }
  const verify = sigv4<ApiEnv>({ lookupSecret: deps.lookupSecret, now: () => deps.clock.now(), service: service.signingName, region: DEFAULT_REGION });

  const run = async (c: Context<ApiEnv>, compiled: CompiledOperation, labels: Record<string, string>, query: URLSearchParams): Promise<Response> => {
    try {
      await verify(c, async () => {});
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return sendRestJsonError(c, service.errorFor(error));
    }
    const body = new Uint8Array(await c.req.arrayBuffer());
    const outcome = readRestJsonInput(model, compiled.inputShape, compiled.input, { labels, query, headers: c.req.raw.headers, body }, service.validation);
    if (!outcome.ok) {
      return sendRestJsonError(c, service.protocolError({ kind: outcome.kind === 'unreadable' ? 'UnreadableBody' : 'InvalidInput', message: outcome.message }));
    }
    try {
      await authorize(c, compiled.name, outcome.input);
      const output = await compiled.operation.handler(outcome.input as never, c);
      // Encoded before anything is set on the response: an output the model cannot write is answered as any other bug.
      const encoded = encodeRestJsonOutput(model, compiled.output, compiled.http.responseCode, output);
      for (const [name, value] of Object.entries(encoded.headers)) c.header(name, value);
      if (encoded.contentType) c.header('content-type', encoded.contentType);
      if (encoded.body === undefined) return c.body(null, encoded.status as StatusCode);
      // Hono's types want an ArrayBuffer-backed array, which every Buffer and Uint8Array a handler makes is.
      return c.body(encoded.body as string | Uint8Array<ArrayBuffer>, encoded.status as ContentfulStatusCode);
    } catch (error) {
      return sendRestJsonError(c, toRestJsonError(error, service, compiled, c, deps));
    }
  };

  const serve = async (c: Context<ApiEnv>): Promise<Response> => {
    const url = new URL(c.req.url);
    const match = router.match(c.req.method, url.pathname, url.searchParams);
    const compiled = match && operations.get(match.operationName);
    if (!match || !compiled) {
      const message = match
        ? `${model.metadata.serviceId} ${match.operationName} is not supported by this server`
        : `No ${model.metadata.serviceId} operation at ${c.req.method} ${url.pathname}${url.search}`;
      return sendRestJsonError(c, service.protocolError({ kind: 'UnknownOperation', message }));
    }
    const maxBytes = service.maxBodyBytes(compiled.name, c);
    const declared = Number.parseInt(c.req.header('content-length') ?? '', 10);
    const limit = payloadLimit(maxBytes, (limited) =>
      sendRestJsonError(
        limited,
        service.protocolError({ kind: 'BodyTooLarge', operationName: compiled.name, maxBytes, ...(Number.isNaN(declared) ? {} : { contentLength: declared }) }),
      ),
    );
    let answer: Response | undefined;
    const refused = await limit(c, async () => {
      answer = await run(c, compiled, match.labels, url.searchParams);
    });
    return refused instanceof Response ? refused : answer!;
  };

  const app = new Hono<ApiEnv>();
  // `/<prefix>/*` also matches `/<prefix>` itself.
  for (const prefix of router.prefixes()) app.all(`/${prefix}/*`, serve);
  return app;
}

function toRestJsonError(error: unknown, service: RestJsonService, compiled: CompiledOperation, c: Context<ApiEnv>, deps: RestJsonDeps): RestJsonError {
  if (error instanceof DomainError) return service.errorFor(error, compiled.operation.errors?.[error.code]);
  const requestId = c.get('requestId') ?? 'unknown';
  deps.logger.error('unhandled error while serving a request', {
    requestId,
    operation: `${service.model.metadata.serviceId}.${compiled.name}`,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return service.errorFor(new DomainError('Internal', `An internal error occurred (request id ${requestId}); the server log has the details`));
}
