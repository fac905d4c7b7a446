import { randomBytes } from 'node:crypto';
import { listenRuntimeHttp, type RuntimeConnection, type RuntimeHttpServer, type RuntimeRequest } from './runtime-http.ts';
import type { Invocation } from './types.ts';

/** Lambda's "6 MB" for a synchronous response, to the byte, as its ResponseSizeTooLarge message gives it. */
export const MAX_RESPONSE_BYTES = 6_291_556;
const API_PREFIX = '/2018-06-01/runtime';
const INVOCATION_PATH = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;
/** A runtime needs one or two; more is a function trying to exhaust Kennel. */
const MAX_CONNECTIONS = 16;
const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** What the runtime answered for an invocation. An error carries the runtime's JSON as it was posted. */
export type RuntimeAnswer = { kind: 'response'; payload: Buffer } | { kind: 'error'; payload: Buffer; errorType: string };

export interface InitError {
  errorType: string;
  errorMessage: string;
  payload: Buffer;
}

export interface RuntimeApiListener {
  /** The runtime asked for its first event: init is done. */
  onReady(): void;
  /** The event left for the runtime: the invocation's duration starts now. */
  onDelivered(requestId: string): void;
  onAnswer(requestId: string, answer: RuntimeAnswer): void;
  onInitError(error: InitError): void;
}

interface PendingEvent {
  requestId: string;
  payload: Buffer;
  headers: Record<string, string>;
}

interface ErrorBody {
  payload: Buffer;
  errorType: string | undefined;
  errorMessage: string | undefined;
}

/**
 * The AWS Lambda Runtime API for one execution environment: the four routes a
 * runtime interface client uses (invocation/next, .../response, .../error,
 * init/error), on 127.0.0.1 and a port of its own, over runtime-http.ts.
 *
 * Nothing a function sends can break it: junk, answers for unknown or already
 * answered requests, error bodies that are not JSON and bodies over the limit
 * all get a 4xx with a JSON `{errorType, errorMessage}`, and where an
 * invocation is concerned its answer says what happened.
 *
 * One event is outstanding at a time. A runtime may ask for the next one
 * before the current one is answered (Kennel's bootstraps pipeline the answer
 * and the next request): it waits until the current one is over. The
 * connection that first asks for an event owns /invocation/next until it
 * closes: another process that finds the port cannot take this function's
 * events.
 */
export class RuntimeApi {
  private ready = false;
  private pending: PendingEvent | undefined;
  private parked: RuntimeRequest | undefined;
  private current: string | undefined;
  private lastAnswered: string | undefined;
  private owner: RuntimeConnection | undefined;
  private closed = false;
  private server!: RuntimeHttpServer;

  private constructor(private readonly listener: RuntimeApiListener) {}

  static async listen(listener: RuntimeApiListener): Promise<RuntimeApi> {
    const api = new RuntimeApi(listener);
    api.server = await listenRuntimeHttp((request) => api.route(request), { maxBodyBytes: MAX_RESPONSE_BYTES, maxConnections: MAX_CONNECTIONS });
    return api;
  }

  /** host:port, the value of AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    return this.server.address;
  }

  /** Hands the invocation to the runtime now if it is waiting, or when it next asks. */
  deliver(invocation: Invocation, deadlineMs: number): void {
    if (this.pending !== undefined || this.current !== undefined) throw new Error('an invocation is already outstanding on this Runtime API');
    this.pending = { requestId: invocation.requestId, payload: invocation.payload, headers: eventHeaders(invocation, deadlineMs) };
    const parked = this.parked;
    this.parked = undefined;
    if (parked !== undefined && isWaiting(parked)) this.send(parked);
  }

  /** Forgets the outstanding invocation (it timed out, or its process died): whatever the runtime still says about it is refused. */
  abandon(): void {
    if (this.current !== undefined) this.lastAnswered = this.current;
    this.current = undefined;
    this.pending = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server.close();
  }

  private route(req: RuntimeRequest): void {
    const { path, method } = req;
    if (path === `${API_PREFIX}/invocation/next`) {
      if (method !== 'GET') return reject(req, 405, 'MethodNotAllowed', `${method} is not allowed on ${path}; use GET`);
      return this.next(req);
    }
    if (path === `${API_PREFIX}/init/error`) {
      if (method !== 'POST') return reject(req, 405, 'MethodNotAllowed', `${method} is not allowed on ${path}; use POST`);
      return this.initError(req);
    }
    const match = INVOCATION_PATH.exec(path);
    if (match === null) return reject(req, 404, 'NotFound', `There is no ${path} in the Lambda Runtime API`);
    if (method !== 'POST') return reject(req, 405, 'MethodNotAllowed', `${method} is not allowed on ${path}; use POST`);
    let requestId: string;
    try {
      requestId = decodeURIComponent(match[1]!);
    } catch {
      return reject(req, 400, 'InvalidRequestID', 'The request id in the path is not valid URL encoding');
    }
    this.answer(req, requestId, match[2] as 'response' | 'error');
  }

  private next(req: RuntimeRequest): void {
    if (this.owner !== undefined && this.owner !== req.connection && this.owner.open) {
      return reject(req, 403, 'InvalidStateTransition', 'Another connection is this environment’s runtime');
    }
    this.owner = req.connection;
    if (this.parked !== undefined && isWaiting(this.parked)) {
      return reject(req, 403, 'InvalidStateTransition', 'The runtime is already waiting for the next invocation');
    }
    if (!this.ready) {
      this.ready = true;
      this.listener.onReady();
    }
    if (this.pending !== undefined) return this.send(req);
    this.parked = req;
  }

  private send(req: RuntimeRequest): void {
    const event = this.pending!;
    this.pending = undefined;
    this.current = event.requestId;
    req.reply(200, event.headers, event.payload);
    this.listener.onDelivered(event.requestId);
  }

  private answer(req: RuntimeRequest, requestId: string, kind: 'response' | 'error'): void {
    if (requestId !== this.current) return this.refuseRequestId(req, requestId);
    const { body } = req;
    if (body === 'too-large') {
      this.finish(requestId, kind === 'response' ? responseTooLarge() : errorTooLarge(req));
      return reject(req, 413, 'RequestEntityTooLarge', `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`);
    }
    if (kind === 'response') {
      this.finish(requestId, { kind: 'response', payload: body });
      return accept(req);
    }
    const error = parseErrorBody(body);
    if (error === undefined) {
      this.finish(requestId, malformedError(req, body));
      return reject(req, 400, 'InvalidErrorBody', 'The error body is not JSON; the invocation failed with a description of it instead');
    }
    this.finish(requestId, { kind: 'error', payload: error.payload, errorType: error.errorType ?? headerErrorType(req) ?? 'Unhandled' });
    accept(req);
  }

  private finish(requestId: string, answer: RuntimeAnswer): void {
    this.current = undefined;
    this.lastAnswered = requestId;
    this.listener.onAnswer(requestId, answer);
  }

  private refuseRequestId(req: RuntimeRequest, requestId: string): void {
    if (requestId === this.lastAnswered) return reject(req, 403, 'InvalidStateTransition', `Invocation ${requestId} is over: it was answered or timed out`);
    reject(req, 400, 'InvalidRequestID', `${requestId} is not the invocation in progress`);
  }

  private initError(req: RuntimeRequest): void {
    if (this.ready) return reject(req, 403, 'InvalidStateTransition', 'Init is over: report errors for an invocation instead');
    const { body } = req;
    if (body === 'too-large') {
      this.listener.onInitError({ errorType: headerErrorType(req) ?? 'Runtime.Unknown', errorMessage: 'The runtime’s init error was too large to read', payload: Buffer.alloc(0) });
      return reject(req, 413, 'RequestEntityTooLarge', `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`);
    }
    const error = parseErrorBody(body);
    const errorType = error?.errorType ?? headerErrorType(req) ?? 'Runtime.Unknown';
    const errorMessage = error?.errorMessage ?? (error === undefined ? `The runtime reported an init error that is not JSON: ${preview(body)}` : '');
    this.listener.onInitError({ errorType, errorMessage, payload: error?.payload ?? errorPayload(errorType, errorMessage) });
    accept(req);
  }
}

function eventHeaders(invocation: Invocation, deadlineMs: number): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Lambda-Runtime-Aws-Request-Id': headerValue(invocation.requestId),
    'Lambda-Runtime-Deadline-Ms': String(Math.round(deadlineMs)),
    'Lambda-Runtime-Invoked-Function-Arn': headerValue(invocation.invokedFunctionArn),
    'Lambda-Runtime-Trace-Id': headerValue(invocation.traceId ?? newTraceId(deadlineMs)),
  };
  const clientContext = invocation.clientContext === undefined ? undefined : Buffer.from(invocation.clientContext, 'base64').toString('utf8');
  if (clientContext) headers['Lambda-Runtime-Client-Context'] = headerValue(clientContext);
  if (invocation.cognitoIdentity) headers['Lambda-Runtime-Cognito-Identity'] = headerValue(invocation.cognitoIdentity);
  return headers;
}

/** Random bytes for trace ids, drawn from a pool: a call to randomBytes per invocation would be a visible part of Kennel's work in one. */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomOffset = 0;
  }
  randomOffset += bytes;
  return randomPool.toString('hex', randomOffset - bytes, randomOffset);
}

/** An X-Ray root trace id, `Root=1-<epoch seconds, hex>-<96 random bits>`, as Lambda makes for untraced calls. */
function newTraceId(nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000).toString(16).padStart(8, '0');
  return `Root=1-${seconds}-${randomHex(12)};Parent=${randomHex(8)};Sampled=0`;
}

/**
 * Header values may carry only visible ASCII: anything else (client context
 * JSON in any language, say) is written as a JSON \u escape, which is what it
 * means inside the JSON strings it can only appear in.
 */
function headerValue(value: string): string {
  return value.replace(/[^\t\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A held /invocation/next whose connection is still there to answer it. */
function isWaiting(req: RuntimeRequest): boolean {
  return !req.answered && req.connection.open;
}

function parseErrorBody(body: Buffer): ErrorBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const fields = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  return {
    payload: body,
    errorType: typeof fields.errorType === 'string' && fields.errorType !== '' ? fields.errorType : undefined,
    errorMessage: typeof fields.errorMessage === 'string' ? fields.errorMessage : undefined,
  };
}

function headerErrorType(req: RuntimeRequest): string | undefined {
  const value = req.headers.get('lambda-runtime-function-error-type');
  return value === undefined || value === '' ? undefined : value;
}

function errorPayload(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorMessage, errorType }));
}

function responseTooLarge(): RuntimeAnswer {
  const errorType = 'Function.ResponseSizeTooLarge';
  return { kind: 'error', errorType, payload: errorPayload(errorType, `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`) };
}

function errorTooLarge(req: RuntimeRequest): RuntimeAnswer {
  const errorType = headerErrorType(req) ?? 'Runtime.Unknown';
  return { kind: 'error', errorType, payload: errorPayload(errorType, `The function's error was larger than ${MAX_RESPONSE_BYTES} bytes and was dropped.`) };
}

function malformedError(req: RuntimeRequest, body: Buffer): RuntimeAnswer {
  const errorType = headerErrorType(req) ?? 'Runtime.Unknown';
  return { kind: 'error', errorType, payload: errorPayload(errorType, `The runtime reported an error whose body is not JSON: ${preview(body)}`) };
}

function preview(body: Buffer): string {
  const text = body.subarray(0, 200).toString('utf8');
  return body.length > 200 ? `${text}…` : text;
}

/** The 202 for an answer, or for an init error. */
function accept(req: RuntimeRequest): void {
  respond(req, 202, { status: 'OK' });
}

function reject(req: RuntimeRequest, status: number, errorType: string, errorMessage: string): void {
  respond(req, status, { errorMessage, errorType });
}

function respond(req: RuntimeRequest, status: number, body: object): void {
  req.reply(status, JSON_HEADERS, JSON.stringify(body));
}
