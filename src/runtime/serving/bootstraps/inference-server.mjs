// Kennel's model server for a Node.js inference script: the Python server's contract (inference_server.py) in Node.js.
//
//   node inference-server.mjs MODEL_DIR CODE_DIR PROGRAM
//
// PROGRAM (an ES module or CommonJS file in CODE_DIR) may export model_fn(modelDir), input_fn(body, contentType),
// predict_fn(data, model) and output_fn(prediction, accept), or transform_fn(model, body, contentType, accept) in
// place of the last three; any may be async, and each is optional:
//   model_fn    default: none (the model is undefined)
//   input_fn    default: application/json is parsed, text/* is a string, anything else the body's Buffer
//   predict_fn  default: the model called on the data if it is a function, else model.predict(data)
//   output_fn   default: JSON; a Buffer or string is sent as it is; return [body, contentType] to set the type
// Errors with a numeric statusCode (400–599) answer with it; any other error is a 500. An answer of
// [body, contentType] (two items, the second a string) sets the content type.
//
// Two threads, as the Python server has: the main thread speaks the frames (frames.ts: in on fd 3, out on fd 4),
// answers pings and watches for Kennel's end; the script runs in a worker thread, so a handler that computes
// synchronously for a long time holds neither. A script that ends its thread (process.exit, an uncaught error)
// ends the process with it. stdout and stderr are the endpoint's log.
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

// InvokeEndpoint's payload limit holds for answers too; past it the request fails, not the instance.
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
const MAX_MESSAGE_CHARS = 64 * 1024;

/** The main thread: frames in and out, pings, and the worker that runs the script. */
function serveFrames() {
  const [modelDir, codeDir, program] = process.argv.slice(2);
  // This process ends when Kennel's does, even by kill -9: Node.js has no parent-death signal, so it looks.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 1000).unref();

  // Sockets, not fs streams: an fs stream reads a pipe in a blocking call on libuv's thread pool, and
  // process.exit waits for that call, so a process with one open would not end until Kennel closed its side.
  const replies = new Socket({ fd: 4, readable: false, writable: true });
  const send = (header, body = Buffer.alloc(0)) => {
    const head = Buffer.from(JSON.stringify(header), 'utf8');
    const frame = Buffer.concat([Buffer.alloc(4), head, Buffer.alloc(4), body]);
    frame.writeUInt32BE(head.length, 0);
    frame.writeUInt32BE(body.length, 4 + head.length);
    replies.write(frame);
  };
  // Once, after the answers already sent are written.
  let finishing = false;
  const finish = (code) => {
    if (finishing) return;
    finishing = true;
    replies.end(() => process.exit(code));
  };

  const script = new Worker(new URL(import.meta.url), { workerData: { modelDir, codeDir, program } });
  script.on('message', (message) => {
    if (message.kind === 'frame') send(message.header, message.body);
    else if (message.kind === 'load-failed') {
      // Written here, not in the worker, whose output would be forwarded after this process has gone.
      console.error(message.detail);
      send({ kind: 'load-failed', message: message.message });
      finish(1);
    } else if (message.kind === 'closed') finish(0);
  });
  // An error the script threw outside any request (a timer's, say): this process has no other way to go on.
  script.on('error', (error) => console.error(error));
  script.on('exit', (code) => finish(code));

  let buffered = Buffer.alloc(0);
  const requests = new Socket({ fd: 3, readable: true, writable: false });
  // A broken pipe is Kennel gone: nothing is left to serve.
  for (const socket of [requests, replies]) socket.on('error', () => process.exit(1));
  requests.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (buffered.length < 4) return;
      const headLength = buffered.readUInt32BE(0);
      if (buffered.length < 8 + headLength) return;
      const bodyLength = buffered.readUInt32BE(4 + headLength);
      const end = 8 + headLength + bodyLength;
      if (buffered.length < end) return;
      const header = JSON.parse(buffered.subarray(4, 4 + headLength).toString('utf8'));
      // A copy of its own, handed over without another: a view would take all of `buffered` with it.
      const body = new Uint8Array(buffered.subarray(8 + headLength, end));
      buffered = buffered.subarray(end);
      if (header.kind === 'ping') send({ kind: 'pong', id: header.id });
      else if (header.kind === 'close') script.postMessage({ kind: 'close' });
      else script.postMessage({ kind: 'request', header, body }, [body.buffer]);
    }
  });
  requests.on('end', () => script.postMessage({ kind: 'close' }));
}

const mediaType = (value) => (value ?? '').split(';')[0].trim().toLowerCase();

function defaultInput(body, contentType) {
  const type = mediaType(contentType);
  if (type === 'application/json') return JSON.parse(body.toString('utf8'));
  if (type.startsWith('text/')) return body.toString('utf8');
  return body;
}

function defaultPredict(data, model) {
  if (typeof model === 'function') return model(data);
  if (model && typeof model.predict === 'function') return model.predict(data);
  throw new TypeError('the default predict_fn calls the model, and model_fn returned neither a function nor an object with predict(); export predict_fn');
}

function defaultOutput(prediction, accept) {
  const types = accept.split(',').map(mediaType);
  if (types.some((type) => type === 'application/json' || type === '*/*' || type === 'application/*')) return [JSON.stringify(prediction), 'application/json'];
  const error = new Error(`Accept ${accept} cannot be served by the default output_fn: ask for application/json, or export output_fn`);
  error.statusCode = 406;
  throw error;
}

/** The worker thread: loads the script, runs model_fn once, then serves requests one at a time, in order. */
async function runScript() {
  const { modelDir, codeDir, program } = workerData;
  const defaultAccept = process.env.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT || 'application/json';
  const reply = (header, bytes) => {
    const body = bytes === undefined ? undefined : new Uint8Array(bytes);
    parentPort.postMessage({ kind: 'frame', header, body }, body ? [body.buffer] : []);
  };
  let handlers;
  let model;
  try {
    const module = await import(pathToFileURL(join(codeDir, program)).href);
    const exported = { ...(module.default && typeof module.default === 'object' ? module.default : {}), ...module };
    handlers = Object.fromEntries(['model_fn', 'input_fn', 'predict_fn', 'output_fn', 'transform_fn'].map((name) => [name, typeof exported[name] === 'function' ? exported[name] : undefined]));
    if (handlers.transform_fn && (handlers.input_fn || handlers.predict_fn || handlers.output_fn)) {
      throw new Error('Cannot use transform_fn implementation in conjunction with input_fn, predict_fn, and/or output_fn implementation');
    }
    if (existsSync(join(codeDir, 'package.json')) && !existsSync(join(codeDir, 'node_modules'))) {
      console.error('code/package.json is not installed: Kennel runs offline, so ship node_modules in the code folder');
    }
    model = handlers.model_fn ? await handlers.model_fn(modelDir) : undefined;
  } catch (error) {
    parentPort.postMessage({ kind: 'load-failed', message: `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`, detail: inspect(error) });
    return;
  }

  const transform = async (body, contentType, accept) => {
    if (handlers.transform_fn) return handlers.transform_fn(model, body, contentType, accept);
    const data = await (handlers.input_fn ?? defaultInput)(body, contentType);
    const prediction = await (handlers.predict_fn ?? defaultPredict)(data, model);
    return (handlers.output_fn ?? defaultOutput)(prediction, accept);
  };

  const serve = async (header, body) => {
    const accept = !header.accept || header.accept === '*/*' ? defaultAccept : header.accept;
    const started = performance.now();
    try {
      let result = await transform(body, header.contentType ?? '', accept);
      let contentType = accept;
      if (Array.isArray(result) && result.length === 2 && typeof result[1] === 'string') [result, contentType] = result;
      const bytes = Buffer.isBuffer(result) || result instanceof Uint8Array ? Buffer.from(result) : Buffer.from(typeof result === 'string' ? result : JSON.stringify(result), 'utf8');
      if (bytes.length > MAX_RESPONSE_BYTES) throw new Error(`the response is ${bytes.length} bytes, over InvokeEndpoint's limit of ${MAX_RESPONSE_BYTES} bytes (6 MB)`);
      reply({ kind: 'result', id: header.id, contentType, computeMs: performance.now() - started }, bytes);
    } catch (error) {
      console.error(error);
      const status = Number.isInteger(error?.statusCode) && error.statusCode >= 400 && error.statusCode <= 599 ? error.statusCode : 500;
      reply({ kind: 'error', id: header.id, status, message: String(error?.message || error).slice(0, MAX_MESSAGE_CHARS), computeMs: performance.now() - started });
    }
  };

  // One request at a time, in order, as a model server worker serves them.
  let chain = Promise.resolve();
  parentPort.on('message', (message) => {
    // A Buffer arrives as a plain Uint8Array: the handlers get the Buffer they are documented to get.
    if (message.kind === 'request') chain = chain.then(() => serve(message.header, Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength)));
    else if (message.kind === 'close') chain = chain.then(() => parentPort.postMessage({ kind: 'closed' }));
  });
  reply({ kind: 'ready' });
}

if (isMainThread) serveFrames();
else await runScript();
