// Kennel's Node.js runtime: loads the function's handler and serves it events
// from the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API, as Lambda's Node.js
// runtime does (handler strings, ESM and CommonJS, async and callback handlers,
// the context object, console in Lambda's log format, its error shapes).
//
//   node bootstrap.mjs <marker> [resolve-hook]
//
// After each invocation it writes "<marker> <request id>" to stdout (with
// " exit" when it is about to exit), so Kennel can tell which log lines belong
// to which invocation: stdout and the HTTP connection are separate channels,
// and nothing else orders them.
//
// With resolve-hook, `import` also finds packages in the NODE_PATH folders, as
// `require` does; without it, an ES module that needs that exits with
// RESTART_WITH_RESOLVE_HOOK and Kennel starts it again with the hook. The hook
// costs a loader thread (tens of milliseconds at start), so only the functions
// that need it pay for it.
import { existsSync, readFileSync, writeSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, types } from 'node:util';
import { RuntimeClient } from './runtime-client.mjs';

const RESTART_WITH_RESOLVE_HOOK = 87;
const [marker, hookOption] = process.argv.slice(2);
const taskRoot = process.env.LAMBDA_TASK_ROOT;
const handlerName = process.env._HANDLER;
const searchDirs = (process.env.NODE_PATH ?? '').split(':').filter(Boolean);
const NEXT = '/2018-06-01/runtime/invocation/next';
const client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API);
const requireFromHere = createRequire(import.meta.url);

/** The invocation in progress, until it is answered. */
let current;
/** What log lines carry: undefined during init, as on Lambda, then the latest invocation's id. */
let lastRequestId;

/**
 * Straight to the file descriptor: setting up process.stdout costs
 * milliseconds of every cold start. A log nobody reads any more (Kennel let go
 * of the pipe) is no error of the function's, as with Node's own console.
 */
function writeOut(text) {
  const bytes = Buffer.from(text);
  try {
    for (let written = 0; written < bytes.length; ) written += writeSync(1, bytes, written);
  } catch {
    // The pipe is gone: so is whoever would read it.
  }
}

function logLine(level, message) {
  writeOut(`${new Date().toISOString()}\t${lastRequestId}\t${level}\t${message}\n`);
}

function patchConsole() {
  const to = (level) => (...args) => logLine(level, format(...args));
  console.log = console.info = to('INFO');
  console.warn = to('WARN');
  console.error = to('ERROR');
  console.debug = to('DEBUG');
  console.trace = to('TRACE');
}

function runtimeError(type, message, cause) {
  const error = new Error(message);
  error.name = `Runtime.${type}`;
  const causeLines = typeof cause?.stack === 'string' ? cause.stack.split('\n').slice(1) : [];
  error.stack = [`${error.name}: ${message}`, ...causeLines].join('\n');
  return error;
}

function isError(value) {
  return types.isNativeError(value) || (typeof value?.name === 'string' && typeof value?.message === 'string' && typeof value?.stack === 'string');
}

/** The body Lambda's Node.js runtime posts for an error. */
function errorResponse(error) {
  if (isError(error)) return { errorType: error.name, errorMessage: error.message, trace: error.stack.split('\n') };
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

/** How Lambda's Node.js runtime writes an error into the log: a tab, then the error as JSON with its stack as lines. */
function formatted(error) {
  try {
    return `\t${JSON.stringify(error, (_key, value) =>
      value instanceof Error ? { errorType: value.name, errorMessage: value.message, code: value.code, ...value, stack: value.stack?.split('\n') } : value,
    )}`;
  } catch {
    return `\t${JSON.stringify(errorResponse(error))}`;
  }
}

function postError(path, error) {
  const response = errorResponse(error);
  return client.request('POST', path, JSON.stringify(response), { 'Lambda-Runtime-Function-Error-Type': response.errorType });
}

function isEsmScope(folder) {
  for (let dir = folder; dir.startsWith(taskRoot) && !dir.endsWith('/node_modules'); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (dir === taskRoot) break;
  }
  return false;
}

async function importIfExists(file) {
  return existsSync(file) ? import(pathToFileURL(file).href) : undefined;
}

function requireIfExists(file) {
  return existsSync(file) ? requireFromHere(file) : undefined;
}

/** Lambda's order: the file as named (CommonJS), .js (CommonJS unless its package is a module), .mjs, .cjs, then a package of that name. */
async function loadModule(moduleRoot, moduleName) {
  const base = resolve(taskRoot, moduleRoot, moduleName);
  const esm = isEsmScope(dirname(base));
  return (
    requireIfExists(base) ??
    (esm ? await importIfExists(`${base}.js`) : requireIfExists(`${base}.js`)) ??
    (await importIfExists(`${base}.mjs`)) ??
    requireIfExists(`${base}.cjs`) ??
    requireFromHere(requireFromHere.resolve(moduleName, { paths: [taskRoot, resolve(taskRoot, moduleRoot)] }))
  );
}

/** An ES module could not import a package that NODE_PATH has: only the resolve hook can find it there. */
function needsResolveHook(error) {
  if (hookOption === 'resolve-hook' || error?.code !== 'ERR_MODULE_NOT_FOUND') return false;
  const name = /Cannot find package '([^']+)'/.exec(error.message)?.[1];
  return name !== undefined && searchDirs.some((dir) => existsSync(join(dir, name, 'package.json')));
}

async function loadHandler() {
  if (handlerName.includes('..')) {
    throw runtimeError('MalformedHandlerName', `'${handlerName}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`);
  }
  const slash = handlerName.lastIndexOf('/');
  const match = /^([^.]*)\.(.*)$/.exec(handlerName.slice(slash + 1));
  if (match === null) throw runtimeError('MalformedHandlerName', 'Bad handler');
  const [, moduleName, path] = match;
  let app;
  try {
    app = await loadModule(handlerName.slice(0, slash + 1), moduleName);
  } catch (error) {
    if (needsResolveHook(error)) process.exit(RESTART_WITH_RESOLVE_HOOK);
    if (error instanceof SyntaxError) throw runtimeError('UserCodeSyntaxError', String(error), error);
    if (error?.code === 'MODULE_NOT_FOUND' || error?.code === 'ERR_MODULE_NOT_FOUND') throw runtimeError('ImportModuleError', String(error), error);
    throw error;
  }
  const handler = path.split('.').reduce((object, key) => object?.[key], app);
  if (!handler) throw runtimeError('HandlerNotFound', `${handlerName} is undefined or not exported`);
  if (typeof handler !== 'function') throw runtimeError('HandlerNotFound', `${handlerName} is not a function`);
  return handler;
}

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new Error(`Cannot parse ${name} as json: ${error}`);
  }
}

/**
 * Runs one invocation to its outcome: the promise the handler returns, or its
 * callback (posted once the event loop is empty unless
 * callbackWaitsForEmptyEventLoop is turned off), or, when the handler neither
 * returns a promise nor calls back, null once the event loop is empty.
 */
function invoke(handler, event, headers, id) {
  return new Promise((settle) => {
    let waitsForEmptyEventLoop = true;
    let whenEmpty;
    const finish = (outcome) => {
      if (current?.finished !== false) return;
      current.finished = true;
      process.off('beforeExit', onBeforeExit);
      settle(outcome);
    };
    const onBeforeExit = () => whenEmpty();
    const fail = (error) => finish({ error: error ?? 'handled' });
    const callback = (error, value) => {
      if (error !== undefined && error !== null) return fail(error);
      if (!waitsForEmptyEventLoop) return finish({ value });
      whenEmpty = () => setImmediate(() => finish({ value }));
    };
    const isAsync = handler.constructor?.name === 'AsyncFunction';
    whenEmpty = isAsync
      ? () => fail(runtimeError('NodeJsExit', 'Runtime exited without providing a reason: the handler’s promise never settled'))
      : () => finish({ value: null });
    process.on('beforeExit', onBeforeExit);
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitsForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitsForEmptyEventLoop = value;
      },
      succeed: (value) => finish({ value }),
      fail,
      done: (error, value) => (error !== undefined && error !== null ? fail(error) : finish({ value })),
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: id,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    try {
      context.clientContext = parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext');
      context.identity = parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity');
      const result = handler(event, context, callback);
      if (typeof result?.then === 'function') result.then((value) => finish({ value }), fail);
    } catch (error) {
      fail(error);
    }
  });
}

/**
 * The marker first, then the answer: by the time Kennel has the answer,
 * everything the invocation logged is ahead of the marker in its pipe. The
 * answer is not waited for: the request for the next event follows it on the
 * same connection.
 */
function answer(id, outcome) {
  const base = `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}`;
  let body;
  if ('value' in outcome) {
    try {
      body = JSON.stringify(outcome.value === undefined ? null : outcome.value);
    } catch {
      outcome = { error: new Error('Unable to stringify response body') };
    }
  }
  current = undefined;
  if ('error' in outcome) logLine('ERROR', `Invoke Error ${formatted(outcome.error)}`);
  writeOut(`${marker} ${id}\n`);
  // A refused answer (the invocation timed out meanwhile) changes nothing for the next one.
  const posted = 'error' in outcome ? postError(`${base}/error`, outcome.error) : client.request('POST', `${base}/response`, body);
  posted.catch(() => {});
}

/** An error outside the handler's promise: reported for the invocation in progress, and the runtime exits, as Lambda's does. */
let crashing = false;

function crash(kind, exitCode) {
  return async (error) => {
    // A second error while the first is reported (the connection is gone too, say) ends it there.
    if (crashing) process.exit(exitCode);
    crashing = true;
    logLine('ERROR', `${kind} ${formatted(error)}`);
    const inFlight = current;
    if (inFlight !== undefined && !inFlight.finished) {
      inFlight.finished = true;
      current = undefined;
      writeOut(`${marker} ${inFlight.id} exit\n`);
      await postError(`/2018-06-01/runtime/invocation/${encodeURIComponent(inFlight.id)}/error`, error).catch(() => {});
    }
    process.exit(exitCode);
  };
}

/** The next event; a connection the Runtime API dropped (it does after refusing an oversized answer) is made again once. */
async function nextEvent() {
  try {
    return await client.request('GET', NEXT);
  } catch {
    return client.request('GET', NEXT);
  }
}

async function serve(handler) {
  for (;;) {
    const next = await nextEvent();
    if (next.status !== 200) throw new Error(`the Runtime API refused to give the next invocation (${next.status}): ${next.body}`);
    const id = next.headers['lambda-runtime-aws-request-id'];
    const traceId = next.headers['lambda-runtime-trace-id'];
    if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
    else delete process.env._X_AMZN_TRACE_ID;
    current = { id, finished: false };
    lastRequestId = id;
    let event;
    try {
      event = JSON.parse(next.body);
    } catch (error) {
      answer(id, { error });
      continue;
    }
    answer(id, await invoke(handler, event, next.headers, id));
  }
}

async function main() {
  patchConsole();
  if (hookOption === 'resolve-hook') register(new URL('./resolve-hook.mjs', import.meta.url), { data: { dirs: searchDirs } });
  let handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    logLine('ERROR', `Uncaught Exception ${formatted(error)}`);
    await postError('/2018-06-01/runtime/init/error', error).catch(() => {});
    process.exit(129);
  }
  process.on('uncaughtException', crash('Uncaught Exception', 129));
  process.on('unhandledRejection', (reason) => crash('Unhandled Promise Rejection', 128)(runtimeError('UnhandledPromiseRejection', String(reason), reason)));
  await serve(handler);
}

main().catch((error) => {
  writeOut(`Kennel's Node.js runtime stopped: ${error?.stack ?? error}\n`);
  process.exit(1);
});
