import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { describeError, DomainError } from '../../core/errors.ts';
import type { Interpreter } from '../../domain/training/script-mode.ts';
import { confinedLaunch } from '../functions/sandbox.ts';
import { scriptCommand } from '../script-mode/script-process.ts';
import { encodeFrame, FrameDecoder } from './frames.ts';
import type { ScriptInstance, ScriptRequest, ScriptResponse } from './instance-types.ts';

const BOOTSTRAP_DIR = fileURLToPath(new URL('./bootstraps/', import.meta.url));
const BOOTSTRAPS = { python: `${BOOTSTRAP_DIR}inference_server.py`, node: `${BOOTSTRAP_DIR}inference-server.mjs` } as const;

export interface ScriptInstanceOptions {
  modelName: string;
  variantName: string;
  interpreter: Interpreter;
  /** model_fn's model_dir: the unpacked model.tar.gz. */
  modelDir: string;
  /** Where the script is; `program` is relative to it. */
  codeDir: string;
  program: string;
  /** The instance's own writable folder, its HOME and TMPDIR: removed once its process is gone. */
  tmpDir: string;
  /** The model's Environment and SageMaker's serving variables; nothing of the server's but PATH and LANG. */
  environment: Readonly<Record<string, string>>;
  /** CPU threads the script's libraries may use (OMP_NUM_THREADS and the like). */
  threads: number;
  /** How long one request may take; past it the request fails and the process is replaced, as a model server restarts a stuck worker. */
  timeoutMs: number;
  /** How long model_fn may take. */
  startTimeoutMs: number;
  /** false runs the model server unconfined even where Landlock could hold it (for measuring what it costs). */
  confine?: boolean;
  /** Each line the script prints. */
  onLog: (stream: 'stdout' | 'stderr', line: string) => void;
  serverEnv?: NodeJS.ProcessEnv;
}

type Reply =
  | { kind: 'ready' }
  | { kind: 'load-failed'; message: string }
  | { kind: 'result'; id: number; contentType?: string }
  | { kind: 'error'; id: number; status: number; message: string }
  | { kind: 'pong'; id: number };

/** Lines of the script's output kept for a failure reason: what a traceback ends with. */
const TAIL_LINES = 20;
/** A closed instance that does not exit by itself within this is killed. */
const CLOSE_GRACE_MS = 5000;
/** Longer lines are cut, so a script printing without newlines cannot fill memory. */
const MAX_LINE_CHARS = 16 * 1024;

/**
 * Starts an inference script in a worker process (bootstraps/): this machine's
 * Python or Node.js runs the model server, which imports the script and runs
 * model_fn once; then requests go to it one at a time. The process has its own
 * process group, killed whole when the instance ends, and where the kernel has
 * Landlock it can read only its model folder, the interpreter and the system's
 * libraries, and write only its private folder (see functions/sandbox.ts), so
 * a script cannot read Kennel's state or keys. Every request in flight
 * when the process dies is refused with ServiceUnavailable; a request that takes
 * longer than `timeoutMs` fails with ModelError and the process is replaced, so
 * no request waits forever.
 */
export async function startScriptInstance(options: ScriptInstanceOptions): Promise<ScriptInstance> {
  // -B: the server's own module must not leave bytecode in Kennel's source tree.
  const bootstrap = options.interpreter === 'python' ? ['-B', BOOTSTRAPS.python] : [BOOTSTRAPS.node];
  const command = scriptCommand(options.interpreter, bootstrap[0], [...bootstrap.slice(1), options.modelDir, options.codeDir, options.program], options.serverEnv);
  const threads = String(options.threads);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    OMP_NUM_THREADS: threads,
    OPENBLAS_NUM_THREADS: threads,
    MKL_NUM_THREADS: threads,
    ...options.environment,
    HOME: options.tmpDir,
    TMPDIR: options.tmpDir,
    SM_MODEL_DIR: options.modelDir,
    SAGEMAKER_PROGRAM: options.program,
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };

  // Confined as Python functions are where the kernel has Landlock: the model folder and Kennel's model server to read, its own folder to write.
  const launch = options.confine === false
    ? undefined
    : await confinedLaunch({ interpreter: options.interpreter, args: command.args, env, read: [options.modelDir, BOOTSTRAP_DIR], write: [options.tmpDir], serverEnv: options.serverEnv });
  let child: ChildProcess;
  try {
    child = spawn(launch?.file ?? command.file, launch?.args ?? command.args, {
      cwd: options.codeDir,
      env: launch?.env ?? env,
      detached: true,
      stdio: [launch ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    await rm(options.tmpDir, { recursive: true, force: true });
    throw cannotStart(command.file, options.interpreter, error);
  }
  if (launch) {
    child.stdin!.on('error', () => {});
    child.stdin!.end(launch.stdin);
  }

  // Both streams: under Landlock the launcher sends stderr to stdout, so the log is one stream in the order it was written.
  const outputTail: string[] = [];
  const log = (stream: 'stdout' | 'stderr') => (line: string) => {
    outputTail.push(line);
    if (outputTail.length > TAIL_LINES) outputTail.shift();
    options.onLog(stream, line);
  };
  pipeLines(child.stdout!, log('stdout'));
  pipeLines(child.stderr!, log('stderr'));

  const toWorker = child.stdio[3] as Writable;
  const fromWorker = child.stdio[4] as Readable;
  const decoder = new FrameDecoder<Reply>();
  const waiting = new Map<number, { resolve: (response: ScriptResponse) => void; reject: (error: unknown) => void; receivedMs: number; timer: NodeJS.Timeout }>();
  const pinging = new Map<number, () => void>();
  const exitListeners: ((reason: string) => void)[] = [];
  let loading: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  let dead: DomainError | undefined;
  let deadReason = '';
  let closed = false;
  let exited = false;
  let nextId = 0;

  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Gone already.
    }
  };
  const die = (reason: string) => {
    if (dead) return;
    deadReason = reason;
    dead = new DomainError('ServiceUnavailable', `The instance serving variant ${options.variantName} stopped (${reason}); retry the request`);
    loading?.reject(new DomainError('ServiceUnavailable', `the inference script's model server stopped before the model was loaded: ${reason}`));
    for (const pending of waiting.values()) {
      clearTimeout(pending.timer);
      pending.reject(dead);
    }
    waiting.clear();
    pinging.clear();
    killGroup();
    if (!closed) for (const listener of exitListeners) listener(reason);
  };

  fromWorker.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      die(`its model server broke the protocol: ${describeError(error)}`);
      return;
    }
    for (const { header, body } of frames) {
      if (header.kind === 'ready') loading?.resolve();
      else if (header.kind === 'load-failed') loading?.reject(loadFailure(header.message, outputTail));
      else if (header.kind === 'pong') {
        pinging.get(header.id)?.();
        pinging.delete(header.id);
      } else if (header.kind === 'result' || header.kind === 'error') {
        const pending = waiting.get(header.id);
        if (!pending) continue;
        waiting.delete(header.id);
        clearTimeout(pending.timer);
        if (header.kind === 'result') pending.resolve({ body, contentType: header.contentType || 'application/octet-stream', modelLatencyMs: performance.now() - pending.receivedMs });
        else pending.reject(modelError(header.status, header.message));
      }
    }
  });
  // Writes to a worker that has just died fail with EPIPE; its exit is what reports that.
  toWorker.on('error', () => {});
  fromWorker.on('error', () => {});
  child.on('error', (error) => {
    if (child.pid === undefined) loading?.reject(cannotStart(command.file, options.interpreter, error));
  });
  let how = '';
  child.on('exit', (code, signal) => {
    exited = true;
    how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    // What the script started dies with it, which also closes the pipes it held.
    killGroup();
  });
  // After the last of its output has been read: a load failure's reply and traceback come before the death they explain.
  child.on('close', () => {
    const last = outputTail.at(-1);
    die(`its process ${how}${last ? `; its last words: ${last}` : ''}`);
    void rm(options.tmpDir, { recursive: true, force: true });
  });
  const send = (header: object, body?: Uint8Array) => {
    if (!exited) toWorker.write(encodeFrame(header, body));
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DomainError('ServiceUnavailable', `model_fn did not finish within ${Math.round(options.startTimeoutMs / 1000)} s`)), options.startTimeoutMs);
      loading = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  } catch (error) {
    closed = true;
    killGroup();
    throw error;
  } finally {
    loading = undefined;
  }

  return {
    kind: 'script',
    modelName: options.modelName,
    variantName: options.variantName,
    get alive() {
      return dead === undefined;
    },
    invoke(request: ScriptRequest) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<ScriptResponse>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(
            new DomainError('ModelError', `Your invocation timed out while waiting for a response from container primary: the inference script took longer than ${options.timeoutMs / 1000} s (SAGEMAKER_MODEL_SERVER_TIMEOUT)`, {
              originalStatusCode: 0,
            }),
          );
          // Requests run one at a time: the one stuck holds every other, so the process is replaced.
          die(`a request took longer than ${options.timeoutMs / 1000} s`);
        }, options.timeoutMs);
        waiting.set(id, { resolve, reject, receivedMs: performance.now(), timer });
        send({ kind: 'invoke', id, contentType: request.contentType ?? '', accept: request.accept ?? '', customAttributes: request.customAttributes ?? '' }, request.body);
      });
    },
    ping() {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<void>((resolve) => {
        pinging.set(id, resolve);
        send({ kind: 'ping', id });
      });
    },
    onExit(listener) {
      exitListeners.push(listener);
      if (dead && !closed) queueMicrotask(() => listener(deadReason));
    },
    async terminate() {
      die('its process was stopped');
    },
    async close() {
      if (closed) return;
      closed = true;
      if (exited) return;
      // The server finishes the request it is on, then exits; one that does not is killed.
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      send({ kind: 'close' });
      const timer = setTimeout(killGroup, CLOSE_GRACE_MS);
      await gone;
      clearTimeout(timer);
      killGroup();
    },
  };
}

function pipeLines(stream: Readable, emit: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    if (partial.length > MAX_LINE_CHARS) {
      emit(`${partial.slice(0, MAX_LINE_CHARS)}… [line cut]`);
      partial = '';
    }
    for (const line of lines) emit(line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… [line cut]` : line);
  });
  stream.on('end', () => {
    if (partial !== '') emit(partial);
  });
}

/** model_fn (or importing the script) failed: the reason names the error, with the traceback's frame that raised it. */
function loadFailure(message: string, outputTail: readonly string[]): DomainError {
  const where = [...outputTail].reverse().find((line) => /^\s*File "/.test(line) || /^\s+at /.test(line));
  return new DomainError('ValidationError', `the inference script failed to load (model_fn or its import raised ${message})${where ? ` at ${where.trim()}` : ''}`);
}

/** The container answered with an error: SageMaker's ModelError, carrying its status and message. */
function modelError(status: number, message: string): DomainError {
  const side = status < 500 ? 'client' : 'server';
  return new DomainError('ModelError', `Received ${side} error (${status}) from primary with message "${message}". See the endpoint's log for the traceback.`, {
    originalStatusCode: status,
    originalMessage: message,
  });
}

function cannotStart(file: string, interpreter: Interpreter, error: unknown): DomainError {
  const code = (error as NodeJS.ErrnoException).code;
  const what = code === 'ENOENT' ? 'was not found' : code === 'EACCES' ? 'is not executable' : `could not be started (${describeError(error)})`;
  const fix = interpreter === 'python' ? 'Install Python 3 so that python3 is on PATH, or set KENNEL_PYTHON to the interpreter to use' : 'Check the Node.js installation that runs Kennel';
  return new DomainError('ServiceUnavailable', `Cannot run the inference script: the interpreter ${file} ${what}. ${fix}.`);
}
