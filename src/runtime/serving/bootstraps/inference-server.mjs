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
// Frames (frames.ts) arrive on fd 3 and leave on fd 4; stdout and stderr are the endpoint's log.
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modelDir, codeDir, program] = process.argv.slice(2);
// InvokeEndpoint's payload limit holds for answers too; past it the request fails, not the instance.
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
const MAX_MESSAGE_CHARS = 64 * 1024;
// This process ends when Kennel's does, even by kill -9: Node.js has no parent-death signal, so it looks.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 1000).unref();
const defaultAccept = process.env.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT || 'application/json';
const replies = createWriteStream(null, { fd: 4 });

function send(header, body = Buffer.alloc(0)) {
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const frame = Buffer.concat([Buffer.alloc(4), head, Buffer.alloc(4), body]);
  frame.writeUInt32BE(head.length, 0);
  frame.writeUInt32BE(body.length, 4 + head.length);
  replies.write(frame);
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

async function main() {
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
    console.error(error);
    send({ kind: 'load-failed', message: `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}` });
    replies.end(() => process.exit(1));
    return;
  }

  const transform = async (body, contentType, accept) => {
    if (handlers.transform_fn) return handlers.transform_fn(model, body, contentType, accept);
    const data = await (handlers.input_fn ?? defaultInput)(body, contentType);
    const prediction = await (handlers.predict_fn ?? defaultPredict)(data, model);
    return (handlers.output_fn ?? defaultOutput)(prediction, accept);
  };

  // One request at a time, in order, as a model server worker serves them; pings are answered between them.
  let chain = Promise.resolve();
  const serve = async (header, body) => {
    const accept = !header.accept || header.accept === '*/*' ? defaultAccept : header.accept;
    const started = performance.now();
    try {
      let result = await transform(body, header.contentType ?? '', accept);
      let contentType = accept;
      if (Array.isArray(result) && result.length === 2 && typeof result[1] === 'string') [result, contentType] = result;
      const bytes = Buffer.isBuffer(result) || result instanceof Uint8Array ? Buffer.from(result) : Buffer.from(typeof result === 'string' ? result : JSON.stringify(result), 'utf8');
      if (bytes.length > MAX_RESPONSE_BYTES) throw new Error(`the response is ${bytes.length} bytes, over InvokeEndpoint's limit of ${MAX_RESPONSE_BYTES} bytes (6 MB)`);
      send({ kind: 'result', id: header.id, contentType, computeMs: performance.now() - started }, bytes);
    } catch (error) {
      console.error(error);
      const status = Number.isInteger(error?.statusCode) && error.statusCode >= 400 && error.statusCode <= 599 ? error.statusCode : 500;
      send({ kind: 'error', id: header.id, status, message: String(error?.message || error).slice(0, MAX_MESSAGE_CHARS), computeMs: performance.now() - started });
    }
  };

  let buffered = Buffer.alloc(0);
  const requests = createReadStream(null, { fd: 3 });
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
      const body = Buffer.from(buffered.subarray(8 + headLength, end));
      buffered = buffered.subarray(end);
      if (header.kind === 'ping') send({ kind: 'pong', id: header.id });
      else if (header.kind === 'close') chain.then(() => replies.end(() => process.exit(0)));
      else chain = chain.then(() => serve(header, body));
    }
  });
  requests.on('end', () => chain.then(() => process.exit(0)));
  send({ kind: 'ready' });
}

await main();
