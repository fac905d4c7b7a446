import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Invocation } from './types.ts';

/** Lambda's "6 MB" for a synchronous response, to the byte, as its ResponseSizeTooLarge message gives it. */
export const MAX_RESPONSE_BYTES = 6_291_556;
const API_PREFIX = '/2018-06-01/runtime';
const INVOCATION_PATH = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;
/** A runtime needs one or two; more is a function trying to exhaust Kennel. */
const MAX_CONNECTIONS = 16;

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
 * init/error), on 127.0.0.1 and a port of its own.
 *
 * It is node:http rather than the Hono stack of the public API: every warm
 * invocation crosses it twice (the event out, the answer in) and the budget for
 * Kennel's whole overhead is about a millisecond, so there is no middleware,
 * routing table or body parser between the socket and this code.
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
  private parked: ServerResponse | undefined;
  private current: string | undefined;
  private lastAnswered: string | undefined;
  private owner: Socket | undefined;
  private closed = false;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly listener: RuntimeApiListener,
  ) {}

  static async listen(listener: RuntimeApiListener): Promise<RuntimeApi> {
    const server = createServer({ keepAliveTimeout: 0, requestTimeout: 0 });
    const api = new RuntimeApi(server, listener);
    server.maxConnections = MAX_CONNECTIONS;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => api.route(req, res));
    server.on('connection', (socket: Socket) => {
      api.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => api.sockets.delete(socket));
    });
    server.on('clientError', (_error, socket: Socket) => {
      if (socket.writable) socket.end(rawResponse(400, 'Bad Request', 'BadRequest', 'The request is not HTTP/1.1'));
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return api;
  }

  /** host:port, the value of AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `${address}:${port}`;
  }

  /** Hands the invocation to the runtime now if it is waiting, or when it next asks. */
  deliver(invocation: Invocation, deadlineMs: number): void {
    if (this.pending !== undefined || this.current !== undefined) throw new Error('an invocation is already outstanding on this Runtime API');
    this.pending = { requestId: invocation.requestId, payload: invocation.payload, headers: eventHeaders(invocation, deadlineMs) };
    const parked = this.parked;
    if (parked !== undefined && isOpen(parked)) {
      this.parked = undefined;
      this.send(parked);
    }
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
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path === `${API_PREFIX}/invocation/next`) {
      if (req.method !== 'GET') return reject(res, 405, 'MethodNotAllowed', `${req.method} is not allowed on ${path}; use GET`);
      return this.next(req, res);
    }
    if (path === `${API_PREFIX}/init/error`) {
      if (req.method !== 'POST') return reject(res, 405, 'MethodNotAllowed', `${req.method} is not allowed on ${path}; use POST`);
      return void this.initError(req, res);
    }
    const match = INVOCATION_PATH.exec(path);
    if (match === null) return reject(res, 404, 'NotFound', `There is no ${path} in the Lambda Runtime API`);
    if (req.method !== 'POST') return reject(res, 405, 'MethodNotAllowed', `${req.method} is not allowed on ${path}; use POST`);
    let requestId: string;
    try {
      requestId = decodeURIComponent(match[1]);
    } catch {
      return reject(res, 400, 'InvalidRequestID', 'The request id in the path is not valid URL encoding');
    }
    void this.answer(req, res, requestId, match[2] as 'response' | 'error');
  }

  private next(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    if (this.owner !== undefined && this.owner !== socket && !this.owner.destroyed) {
      return reject(res, 403, 'InvalidStateTransition', 'Another connection is this environment’s runtime');
    }
    this.owner = socket;
    if (this.parked !== undefined && isOpen(this.parked)) {
      return reject(res, 403, 'InvalidStateTransition', 'The runtime is already waiting for the next invocation');
    }
    if (!this.ready) {
      this.ready = true;
      this.listener.onReady();
    }
    if (this.pending !== undefined) return this.send(res);
    this.parked = res;
    res.on('close', () => {
      if (this.parked === res) this.parked = undefined;
    });
  }

  private send(res: ServerResponse): void {
    const event = this.pending!;
    this.pending = undefined;
    this.current = event.requestId;
    res.writeHead(200, { ...event.headers, 'Content-Length': String(event.payload.length) });
    res.end(event.payload);
    this.listener.onDelivered(event.requestId);
  }

  private async answer(req: IncomingMessage, res: ServerResponse, requestId: string, kind: 'response' | 'error'): Promise<void> {
    if (requestId !== this.current) return this.refuseRequestId(res, requestId);
    const body = await readBody(req);
    if (body === 'aborted') return;
    if (requestId !== this.current) return this.refuseRequestId(res, requestId);
    if (body === 'too-large') {
      this.finish(requestId, kind === 'response' ? responseTooLarge() : errorTooLarge(req));
      return tooLarge(res);
    }
    if (kind === 'response') {
      this.finish(requestId, { kind: 'response', payload: body });
      return acceptAfterAnswer(res);
    }
    const error = parseErrorBody(body);
    if (error === undefined) {
      this.finish(requestId, malformedError(req, body));
      return reject(res, 400, 'InvalidErrorBody', 'The error body is not JSON; the invocation failed with a description of it instead');
    }
    this.finish(requestId, { kind: 'error', payload: error.payload, errorType: error.errorType ?? headerErrorType(req) ?? 'Unhandled' });
    acceptAfterAnswer(res);
  }

  private finish(requestId: string, answer: RuntimeAnswer): void {
    this.current = undefined;
    this.lastAnswered = requestId;
    this.listener.onAnswer(requestId, answer);
  }

  private refuseRequestId(res: ServerResponse, requestId: string): void {
    if (requestId === this.lastAnswered) return reject(res, 403, 'InvalidStateTransition', `Invocation ${requestId} is over: it was answered or timed out`);
    reject(res, 400, 'InvalidRequestID', `${requestId} is not the invocation in progress`);
  }

  private async initError(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.ready) return reject(res, 403, 'InvalidStateTransition', 'Init is over: report errors for an invocation instead');
    const body = await readBody(req);
    if (body === 'aborted' || this.ready) return;
    if (body === 'too-large') {
      this.listener.onInitError({ errorType: headerErrorType(req) ?? 'Runtime.Unknown', errorMessage: 'The runtime’s init error was too large to read', payload: Buffer.alloc(0) });
      return tooLarge(res);
    }
    const error = parseErrorBody(body);
    const errorType = error?.errorType ?? headerErrorType(req) ?? 'Runtime.Unknown';
    const errorMessage = error?.errorMessage ?? (error === undefined ? `The runtime reported an init error that is not JSON: ${preview(body)}` : '');
    this.listener.onInitError({ errorType, errorMessage, payload: error?.payload ?? errorPayload(errorType, errorMessage) });
    accept(res);
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

/** A pipelined response has no socket until those before it are sent: its request's socket is the one to ask. */
function isOpen(res: ServerResponse): boolean {
  return !res.writableEnded && !res.destroyed && !res.req.socket.destroyed;
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | 'aborted'> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_RESPONSE_BYTES) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        req.removeAllListeners('data');
        resolve('too-large');
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
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

function headerErrorType(req: IncomingMessage): string | undefined {
  const value = req.headers['lambda-runtime-function-error-type'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function errorPayload(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorMessage, errorType }));
}

function responseTooLarge(): RuntimeAnswer {
  const errorType = 'Function.ResponseSizeTooLarge';
  return { kind: 'error', errorType, payload: errorPayload(errorType, `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`) };
}

function errorTooLarge(req: IncomingMessage): RuntimeAnswer {
  const errorType = headerErrorType(req) ?? 'Runtime.Unknown';
  return { kind: 'error', errorType, payload: errorPayload(errorType, `The function's error was larger than ${MAX_RESPONSE_BYTES} bytes and was dropped.`) };
}

function malformedError(req: IncomingMessage, body: Buffer): RuntimeAnswer {
  const errorType = headerErrorType(req) ?? 'Runtime.Unknown';
  return { kind: 'error', errorType, payload: errorPayload(errorType, `The runtime reported an error whose body is not JSON: ${preview(body)}`) };
}

function preview(body: Buffer): string {
  const text = body.subarray(0, 200).toString('utf8');
  return body.length > 200 ? `${text}…` : text;
}

function accept(res: ServerResponse): void {
  respond(res, 202, { status: 'OK' });
}

/**
 * The 202 for an invocation's answer, on the event loop's next turn: the
 * answer goes back to the caller in the promise callbacks that finish() sets
 * off, so the write that wakes the runtime (and the next request it then
 * sends) stays off the caller's path.
 */
function acceptAfterAnswer(res: ServerResponse): void {
  setImmediate(() => accept(res));
}

function reject(res: ServerResponse, status: number, errorType: string, errorMessage: string): void {
  respond(res, status, { errorMessage, errorType });
}

/** The request body is still coming: answer, then drop the connection rather than read megabytes to keep it. */
function tooLarge(res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  respond(res, 413, { errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, errorType: 'RequestEntityTooLarge' });
  res.on('finish', () => res.socket?.destroy());
}

function respond(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function rawResponse(status: number, reason: string, errorType: string, errorMessage: string): string {
  const body = JSON.stringify({ errorMessage, errorType });
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
