// A minimal HTTP/1.1 client for the Lambda Runtime API, on one kept-alive
// connection that requests are pipelined on. The bootstrap sends an answer and
// its next /invocation/next back to back, so the request for the next event is
// already waiting when the answer has been taken: one round trip per
// invocation instead of two, which is most of a warm invocation's cost. The
// requests of one tick go out in one write: an answer and the next request
// reach Kennel together, and wake it once.
// It reads what Kennel's Runtime API writes (Content-Length bodies), nothing more.
import { connect } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');

export class RuntimeClient {
  #host;
  #port;
  #socket;
  #head = Buffer.alloc(0);
  #response;
  #waiting = [];
  #corked = false;

  constructor(address) {
    const colon = address.lastIndexOf(':');
    this.#host = address.slice(0, colon);
    this.#port = Number(address.slice(colon + 1));
  }

  /** Sends a request now and resolves with its response: { status, headers (lower-case names), body (text) }. */
  request(method, path, body, headers = {}) {
    const payload = body === undefined ? undefined : Buffer.from(body);
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#host}:${this.#port}\r\n`;
    // Header values are ASCII and one line: an error type is the function's to choose.
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${String(value).replace(/[^\x20-\x7e]/g, '')}\r\n`;
    if (payload !== undefined) head += `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n`;
    const socket = this.#connection();
    // Referenced only while a response is awaited: an idle connection must not keep the event
    // loop alive, or a callback handler's "wait for the empty event loop" would never end.
    socket.ref();
    const reply = new Promise((settle, fail) => this.#waiting.push({ settle, fail }));
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    socket.write(payload === undefined ? `${head}\r\n` : Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), payload]));
    return reply;
  }

  #connection() {
    if (this.#socket !== undefined) return this.#socket;
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
    socket.on('data', (chunk) => this.#read(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      this.#head = Buffer.alloc(0);
      this.#response = undefined;
      for (const { fail } of this.#waiting.splice(0)) fail(new Error('the Runtime API closed the connection'));
    });
    this.#socket = socket;
    return socket;
  }

  #read(chunk) {
    for (;;) {
      if (this.#response === undefined) {
        if (chunk.length === 0) return;
        this.#head = this.#head.length === 0 ? chunk : Buffer.concat([this.#head, chunk]);
        const end = this.#head.indexOf(HEADER_END);
        if (end === -1) return;
        this.#response = parseHead(this.#head.subarray(0, end).toString('latin1'));
        chunk = this.#head.subarray(end + HEADER_END.length);
        this.#head = Buffer.alloc(0);
      }
      const response = this.#response;
      if (response.remaining > 0) {
        const take = chunk.subarray(0, response.remaining);
        response.chunks.push(take);
        response.remaining -= take.length;
        chunk = chunk.subarray(take.length);
        if (response.remaining > 0) return;
      }
      this.#response = undefined;
      if (this.#waiting.length === 1) this.#socket?.unref();
      this.#waiting.shift()?.settle({ status: response.status, headers: response.headers, body: Buffer.concat(response.chunks).toString('utf8') });
    }
  }
}

function parseHead(text) {
  const [statusLine, ...lines] = text.split('\r\n');
  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, remaining: Number(headers['content-length'] ?? 0), chunks: [] };
}
