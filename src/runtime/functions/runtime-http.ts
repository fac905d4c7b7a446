import { STATUS_CODES } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * The HTTP/1.1 server under the Lambda Runtime API: one request at a time per
 * connection, in order, each read whole (head and body) before it is handled.
 *
 * Hand-written rather than node:http because every warm invocation crosses it
 * twice (the answer in, the next event out), and node:http's request and
 * response objects, stream events and parser callbacks measured about a fifth
 * of Kennel's whole warm-invoke overhead in `npm run bench -- functions`; this
 * is a few string scans and one write. It takes what runtime interface clients
 * send, curl-based and Node.js ones included: Content-Length and chunked
 * bodies, Expect: 100-continue, pipelining, HTTP/1.0. What it does not take
 * (a malformed head, both Content-Length and Transfer-Encoding, an unknown
 * transfer coding) is answered with a 4xx and the connection is closed.
 *
 * The replies given while one read is handled go out together, in one write,
 * once nothing more in it can be handled. A client that sends requests and does
 * not read the replies is not read from either until it does: what the server
 * holds for it stays within the socket's own buffer.
 */

/** node:http's default limit on a request's head. */
const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line: the size in hex and any extensions. */
const MAX_CHUNK_LINE_BYTES = 1024;
/** Sent while a request is held: more than a pipelined request or two is a client flooding the server. */
const MAX_BUFFERED_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([!-~]+) HTTP\/1\.([01])$/;
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,8})[ \t]*(?:;.*)?$/;
const EMPTY = Buffer.alloc(0);
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

export interface RuntimeRequest {
  method: string;
  /** The request target's path, without its query. */
  path: string;
  /** Lower-case names; a header sent more than once has its values joined by ", ". */
  headers: ReadonlyMap<string, string>;
  /** The whole body, or 'too-large' past the server's limit (the connection then closes after the reply). */
  body: Buffer | 'too-large';
  /** The connection it came on: the same object for every request of one connection. */
  connection: RuntimeConnection;
  /** True once it has been answered. */
  readonly answered: boolean;
  /** Answers it, now or later; exactly once. */
  reply(status: number, headers: Readonly<Record<string, string>>, body: Buffer | string): void;
}

export interface RuntimeConnection {
  readonly open: boolean;
}

export type RuntimeRequestHandler = (request: RuntimeRequest) => void;

export interface RuntimeHttpServer {
  /** host:port. */
  readonly address: string;
  close(): Promise<void>;
}

export async function listenRuntimeHttp(handler: RuntimeRequestHandler, options: { maxBodyBytes: number; maxConnections: number }): Promise<RuntimeHttpServer> {
  const connections = new Set<Connection>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    const connection = new Connection(socket, handler, options.maxBodyBytes);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  server.maxConnections = options.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address: `${address}:${port}`,
    close: () => {
      for (const connection of connections) connection.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Thrown by the parser: the request is answered with `status` and the connection closed. */
class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Head {
  method: string;
  path: string;
  headers: Map<string, string>;
  keepAlive: boolean;
  /** An HTTP/1.0 client keeps the connection only when the reply says keep-alive. */
  http10: boolean;
  expectContinue: boolean;
  /** A declared length, or 'chunked'. */
  length: number | 'chunked';
}

interface BodyReader {
  head: Head;
  chunks: Buffer[];
  size: number;
  /** Content-Length: bytes still to come. Chunked: bytes of the current chunk still to come, then its CRLF. */
  remaining: number;
  /** Chunked only: what is expected next. */
  chunkState?: 'size' | 'data' | 'data-end' | 'trailers';
}

class Connection implements RuntimeConnection {
  private input: Buffer = EMPTY;
  private body: BodyReader | undefined;
  /** The request handed to the handler and not yet answered: nothing more is read until it is. */
  private waiting: Request | undefined;
  private readonly output: Buffer[] = [];
  private closeAfterReply = false;
  private inPass = false;
  /** Replies are waiting for the client to read them: nothing more is read until they are. */
  private blocked = false;

  constructor(
    private readonly socket: Socket,
    private readonly handler: RuntimeRequestHandler,
    private readonly maxBodyBytes: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    // A reset by the runtime is the runtime's business: the connection just ends.
    socket.on('error', () => socket.destroy());
  }

  /** A reply can still reach the client: a client that has half-closed its side (sent FIN) is as good as gone. */
  get open(): boolean {
    return this.socket.writable && !this.closeAfterReply;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Called by a request's reply. */
  answered(request: Request, bytes: Buffer, close: boolean): void {
    // Ended (refused, or closed after a reply) or gone: there is no one to tell.
    if (!this.socket.writable) return;
    this.output.push(bytes);
    if (this.waiting === request) this.waiting = undefined;
    if (close) this.closeAfterReply = true;
    if (this.closeAfterReply) return this.flush();
    if (this.inPass) return;
    // Outside a pass (an event for a held /next, say): written at once, and what was sent after it is read.
    this.flush();
    this.process();
  }

  private received(chunk: Buffer): void {
    if (this.closeAfterReply) return;
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    this.process();
  }

  /** Reads and hands over requests until one is held, the input runs out, or the connection is to close. */
  private process(): void {
    this.inPass = true;
    try {
      while (this.waiting === undefined && !this.blocked && !this.closeAfterReply && !this.socket.destroyed) {
        if (!(this.body === undefined ? this.readHead() : this.readBody())) break;
      }
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      this.refuse(error);
    } finally {
      this.inPass = false;
    }
    if (this.socket.destroyed || this.closeAfterReply) return;
    if (this.waiting !== undefined && this.input.length > MAX_BUFFERED_BYTES) return this.refuse(new BadRequest(400, 'Too much was sent ahead of the reply to an earlier request'));
    this.flush();
  }

  private flush(): void {
    if (this.output.length === 0 || !this.socket.writable) return;
    const bytes = this.output.length === 1 ? this.output[0]! : Buffer.concat(this.output);
    this.output.length = 0;
    if (this.closeAfterReply) return void this.socket.end(bytes);
    if (this.socket.write(bytes) || this.blocked) return;
    this.blocked = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.blocked = false;
      this.socket.resume();
      this.process();
    });
  }

  /** False when the head is not all here yet. */
  private readHead(): boolean {
    let start = 0;
    // A client may send empty lines between requests.
    while (this.input.length >= start + 2 && this.input[start] === 13 && this.input[start + 1] === 10) start += 2;
    const end = this.input.indexOf(HEAD_END, start);
    if (end === -1) {
      if (this.input.length - start > MAX_HEAD_BYTES) throw new BadRequest(431, `The request's head is over ${MAX_HEAD_BYTES} bytes`);
      if (start > 0) this.input = this.input.subarray(start);
      return false;
    }
    if (end - start > MAX_HEAD_BYTES) throw new BadRequest(431, `The request's head is over ${MAX_HEAD_BYTES} bytes`);
    const head = parseHead(this.input.toString('latin1', start, end));
    this.input = this.input.subarray(end + HEAD_END.length);
    if (head.length === 'chunked') {
      this.body = { head, chunks: [], size: 0, remaining: 0, chunkState: 'size' };
    } else if (head.length > this.maxBodyBytes) {
      // Not read: answered at once, and the connection goes after the reply.
      this.dispatch(head, 'too-large');
      return true;
    } else if (head.length === 0) {
      this.dispatch(head, EMPTY);
      return true;
    } else {
      this.body = { head, chunks: [], size: 0, remaining: head.length };
    }
    // Behind the replies to the requests before it, like any other response.
    if (head.expectContinue) this.output.push(CONTINUE);
    return true;
  }

  /** False when more of the body is still to come. */
  private readBody(): boolean {
    const body = this.body!;
    if (body.chunkState === undefined) {
      if (!this.take(body)) return false;
      return this.complete(body);
    }
    for (;;) {
      switch (body.chunkState) {
        case 'size': {
          const line = this.line(MAX_CHUNK_LINE_BYTES, 'chunk size line');
          if (line === undefined) return false;
          const match = CHUNK_SIZE.exec(line);
          if (match === null) throw new BadRequest(400, 'A chunk size is not hexadecimal');
          body.remaining = Number.parseInt(match[1]!, 16);
          if (body.size + body.remaining > this.maxBodyBytes) return this.tooLarge(body);
          body.chunkState = body.remaining === 0 ? 'trailers' : 'data';
          break;
        }
        case 'data':
          if (!this.take(body)) return false;
          body.chunkState = 'data-end';
          break;
        case 'data-end':
          if (this.input.length < 2) return false;
          if (this.input[0] !== 13 || this.input[1] !== 10) throw new BadRequest(400, 'A chunk does not end with CRLF');
          this.input = this.input.subarray(2);
          body.chunkState = 'size';
          break;
        case 'trailers': {
          const line = this.line(MAX_HEAD_BYTES, 'trailer');
          if (line === undefined) return false;
          // Trailer fields are allowed and ignored; the empty line ends the body.
          if (line === '') return this.complete(body);
          break;
        }
      }
    }
  }

  /** Moves up to `body.remaining` bytes of input into the body; true once they are all there. */
  private take(body: BodyReader): boolean {
    const count = Math.min(body.remaining, this.input.length);
    if (count > 0) {
      body.chunks.push(this.input.subarray(0, count));
      body.size += count;
      body.remaining -= count;
      this.input = this.input.subarray(count);
    }
    return body.remaining === 0;
  }

  private line(maxBytes: number, what: string): string | undefined {
    const end = this.input.indexOf(CRLF);
    if (end === -1) {
      if (this.input.length > maxBytes) throw new BadRequest(400, `A ${what} is over ${maxBytes} bytes`);
      return undefined;
    }
    if (end > maxBytes) throw new BadRequest(400, `A ${what} is over ${maxBytes} bytes`);
    const line = this.input.toString('latin1', 0, end);
    this.input = this.input.subarray(end + 2);
    return line;
  }

  private complete(body: BodyReader): boolean {
    this.body = undefined;
    this.dispatch(body.head, body.chunks.length === 1 ? body.chunks[0]! : Buffer.concat(body.chunks, body.size));
    return true;
  }

  /** A streamed body went over the limit: answered at once, and the rest is not read. */
  private tooLarge(body: BodyReader): boolean {
    this.body = undefined;
    this.input = EMPTY;
    this.dispatch(body.head, 'too-large');
    return true;
  }

  private dispatch(head: Head, body: Buffer | 'too-large'): void {
    const request = new Request(this, head, body);
    this.waiting = request;
    if (body === 'too-large') this.closeAfterReply = true;
    this.handler(request);
  }

  private refuse(error: BadRequest): void {
    this.body = undefined;
    this.input = EMPTY;
    this.waiting = undefined;
    const text = JSON.stringify({ errorMessage: error.message, errorType: 'BadRequest' });
    this.output.push(responseBytes(error.status, { 'Content-Type': 'application/json' }, text, 'close'));
    this.closeAfterReply = true;
    this.flush();
  }
}

class Request implements RuntimeRequest {
  private done = false;

  constructor(
    private readonly owner: Connection,
    private readonly head: Head,
    readonly body: Buffer | 'too-large',
  ) {}

  get method(): string {
    return this.head.method;
  }

  get path(): string {
    return this.head.path;
  }

  get headers(): ReadonlyMap<string, string> {
    return this.head.headers;
  }

  get connection(): RuntimeConnection {
    return this.owner;
  }

  get answered(): boolean {
    return this.done;
  }

  reply(status: number, headers: Readonly<Record<string, string>>, body: Buffer | string): void {
    if (this.done) throw new Error(`${this.method} ${this.path} has already been answered`);
    this.done = true;
    const close = !this.head.keepAlive || this.body === 'too-large';
    this.owner.answered(this, responseBytes(status, headers, body, close ? 'close' : this.head.http10 ? 'keep-alive' : undefined), close);
  }
}

function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const requestLine = REQUEST_LINE.exec(lines[0]!);
  if (requestLine === null) throw new BadRequest(400, 'The request is not HTTP/1.1');
  const [, method, target, minor] = requestLine as unknown as [string, string, string, string];
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new BadRequest(400, `A header line is malformed: ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    if (FORBIDDEN_IN_VALUE.test(value)) throw new BadRequest(400, `The ${name} header holds a forbidden character`);
    const key = name.toLowerCase();
    const earlier = headers.get(key);
    if (key === 'content-length' && earlier !== undefined && earlier !== value) throw new BadRequest(400, 'Content-Length is given twice, with different values');
    headers.set(key, earlier === undefined || key === 'content-length' ? value : `${earlier}, ${value}`);
  }
  const transferEncoding = headers.get('transfer-encoding');
  const contentLength = headers.get('content-length');
  let length: number | 'chunked' = 0;
  if (transferEncoding !== undefined) {
    if (contentLength !== undefined) throw new BadRequest(400, 'Both Content-Length and Transfer-Encoding are given');
    if (transferEncoding.toLowerCase() !== 'chunked') throw new BadRequest(400, `Transfer-Encoding ${transferEncoding} is not supported; send Content-Length or chunked`);
    length = 'chunked';
  } else if (contentLength !== undefined) {
    if (!/^\d{1,15}$/.test(contentLength)) throw new BadRequest(400, `Content-Length ${JSON.stringify(contentLength)} is not a length`);
    length = Number(contentLength);
  }
  const expect = headers.get('expect')?.toLowerCase();
  if (expect !== undefined && expect !== '100-continue') throw new BadRequest(417, `Expect: ${expect} is not supported`);
  const connection = headers.get('connection')?.toLowerCase() ?? '';
  const keepAlive = minor === '1' ? !/(^|,)\s*close\s*(,|$)/.test(connection) : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
  return { method, path: pathOf(target), headers, keepAlive, http10: minor === '0', expectContinue: expect !== undefined && minor === '1', length };
}

/** The path of an origin-form target (`/a?b`) or an absolute-form one (`http://host/a?b`). */
function pathOf(target: string): string {
  let path = target;
  if (!path.startsWith('/')) {
    const scheme = /^https?:\/\/[^/?#]*/i.exec(path);
    if (scheme === null) throw new BadRequest(400, `The request target ${JSON.stringify(target.slice(0, 80))} is not a path`);
    path = path.slice(scheme[0].length) || '/';
  }
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

function responseBytes(status: number, headers: Readonly<Record<string, string>>, body: Buffer | string, connection: 'close' | 'keep-alive' | undefined): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  head += `Content-Length: ${payload.length}\r\n${connection === undefined ? '' : `Connection: ${connection}\r\n`}\r\n`;
  const headBytes = Buffer.from(head, 'latin1');
  return payload.length === 0 ? headBytes : Buffer.concat([headBytes, payload], headBytes.length + payload.length);
}
