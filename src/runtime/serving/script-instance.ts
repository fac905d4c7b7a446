import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { describeError, DomainError } from '../../core/errors.ts';
import type { Interpreter } from '../../domain/training/script-mode.ts';
import { confinedLaunch } from '../functions/sandbox.ts';
import { childEnvironment, LineSplitter, scriptCommand, spawnFailure } from '../script-mode/script-process.ts';
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
  /** Called once when a started instance's process is gone, closed or dead, and its private folder removed. */
  onGone?: () => void;
  /** The model's Environment and SageMaker's serving variables; nothing of the server's but PATH and LANG. */
  environment: Readonly<Record<string, string>>;
  /** CPU threads the script's libraries may use (OMP_NUM_THREADS and the like). */
  threads: number;
  /** How long one request may take; past it the request fails and the process is replaced, as a model server restarts a stuck worker. */
  timeoutMs: number;
  /** How long model_fn may take. */
  startTimeoutMs: number;
  /** Each line the script prints. */
  onLog: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Where the script's output can be read, for error messages ("See the endpoint's log: …"). */
  logHint: string;
  serverEnv?: NodeJS.ProcessEnv;
}

/** What the model server sends; read as hostile input (each member is checked where it is used). */
type Reply =
  | { kind: 'ready' }
  | { kind: 'load-failed'; message: unknown }
  | { kind: 'result'; id: number; contentType?: unknown; computeMs?: unknown }
  | { kind: 'error'; id: number; status: number; message: unknown; computeMs?: unknown }
  | { kind: 'pong'; id: number };

interface Waiting {
  resolve: (response: ScriptResponse) => void;
  reject: (error: unknown) => void;
  sentMs: number;
  /** The invocation's whole-call deadline. */
  deadline: NodeJS.Timeout;
  /** Its caller was answered with a timeout; the model server's answer, when it comes, is dropped. */
  abandoned?: boolean;
}

/** Lines of the script's output kept for a failure reason: what a traceback ends with. */
const TAIL_LINES = 20;
/** A closed instance that does not exit by itself within this is killed. */
const CLOSE_GRACE_MS = 5000;
/** Longer lines are cut, so a script printing without newlines cannot fill memory. */
const MAX_LINE_CHARS = 16 * 1024;
/** After the process exits: how long what it left running may hold its output open before its death is reported. */
const DRAIN_MS = 2000;

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
  const env = childEnvironment({
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
  });

  // Confined as Python functions are where the kernel has Landlock: the model folder and Kennel's model server to read, its own folder to write.
  const launch = await confinedLaunch({ interpreter: options.interpreter, args: command.args, env, read: [options.modelDir, BOOTSTRAP_DIR], write: [options.tmpDir], serverEnv: options.serverEnv });
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
    throw spawnFailure(error, command, options.interpreter, 'inference script', 'start the endpoint again');
  }
  if (launch) {
    child.stdin!.on('error', () => {});
    child.stdin!.end(launch.stdin);
  }

  // Both streams: under Landlock the launcher sends stderr to stdout, so the log is one stream in the order it was written.
  const outputTail: string[] = [];
  const log = (stream: 'stdout' | 'stderr') => {
    const lines = new LineSplitter(MAX_LINE_CHARS, (line) => {
      outputTail.push(line);
      if (outputTail.length > TAIL_LINES) outputTail.shift();
      options.onLog(stream, line);
    });
    child[stream]!.on('data', (chunk: Buffer) => lines.push(chunk));
    child[stream]!.on('end', () => lines.end());
  };
  log('stdout');
  log('stderr');
  // The OOM killer should take a runaway model server, not Kennel (best effort: the file is Linux's).
  if (child.pid !== undefined) void writeFile(`/proc/${child.pid}/oom_score_adj`, '1000').catch(() => {});

  const toWorker = child.stdio[3] as Writable;
  const fromWorker = child.stdio[4] as Readable;
  const decoder = new FrameDecoder<Reply>();
  /** Requests sent and not answered, in the order sent: the model server answers them in that order. */
  const waiting = new Map<number, Waiting>();
  const pinging = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();
  const exitListeners: ((reason: string) => void)[] = [];
  let loading: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  let loadFailedMessage: string | undefined;
  let dead: DomainError | undefined;
  let deadReason = '';
  let closed = false;
  let exited = false;
  let exitedHow = '';
  let gone = false;
  let nextId = 0;
  /** The timeout of the request the model server is on (the oldest one waiting): past it the process is stuck, and replaced. */
  let running: { id: number; timer: NodeJS.Timeout } | undefined;

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
    loading?.reject(
      loadFailedMessage !== undefined
        ? loadFailure(loadFailedMessage, outputTail, options.logHint)
        : new DomainError('ServiceUnavailable', `the inference script's model server stopped before the model was loaded: ${reason}`),
    );
    clearTimeout(running?.timer);
    running = undefined;
    for (const pending of waiting.values()) {
      clearTimeout(pending.deadline);
      pending.reject(dead);
    }
    waiting.clear();
    for (const ping of pinging.values()) ping.reject(dead);
    pinging.clear();
    // Once the process has exited, its group was killed then: the pid may since be someone else's.
    if (!exited) killGroup();
    if (!closed) for (const listener of exitListeners) listener(reason);
  };
  const timedOut = () =>
    new DomainError('ModelError', `Your invocation timed out while waiting for a response from container primary: no answer within ${options.timeoutMs / 1000} s (SAGEMAKER_MODEL_SERVER_TIMEOUT)`, {
      originalStatusCode: 0,
    });
  /** Times the oldest request waiting, if none is timed: a request's clock starts when the model server takes it up. */
  const timeHead = () => {
    if (running || dead) return;
    const head = waiting.keys().next();
    if (head.done) return;
    const id = head.value;
    running = {
      id,
      timer: setTimeout(() => {
        const pending = waiting.get(id);
        waiting.delete(id);
        if (pending) clearTimeout(pending.deadline);
        pending?.reject(timedOut());
        // The model server is stuck on it, and every request behind it waits: the process is replaced.
        die(`a request took longer than ${options.timeoutMs / 1000} s`);
      }, options.timeoutMs),
    };
  };
  const settle = (id: number) => {
    const pending = waiting.get(id);
    waiting.delete(id);
    if (pending) clearTimeout(pending.deadline);
    if (running?.id === id) {
      clearTimeout(running.timer);
      running = undefined;
    }
    timeHead();
    // A request its caller gave up on is answered into the void; it stayed only to keep the order.
    return pending?.abandoned ? undefined : pending;
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
      // Reported once the process has ended, when its traceback has been read too; one that does not end promptly is ended.
      else if (header.kind === 'load-failed') {
        loadFailedMessage = String(header.message);
        setTimeout(killGroup, DRAIN_MS).unref();
      }
      else if (header.kind === 'pong') {
        pinging.get(header.id)?.resolve();
        pinging.delete(header.id);
      } else if (header.kind === 'result' || header.kind === 'error') {
        const pending = settle(header.id);
        if (!pending) continue;
        const computeMs = typeof header.computeMs === 'number' ? header.computeMs : undefined;
        const modelLatencyMs = performance.now() - pending.sentMs;
        if (header.kind === 'result') pending.resolve({ body, contentType: responseContentType(header.contentType), modelLatencyMs, computeMs: computeMs ?? modelLatencyMs });
        else pending.reject(modelError(header.status, String(header.message), options.logHint));
      }
    }
  });
  // Writes to a worker that has just died fail with EPIPE; its exit is what reports that.
  toWorker.on('error', () => {});
  fromWorker.on('error', () => {});
  child.on('error', (error) => {
    if (child.pid === undefined) loading?.reject(spawnFailure(error, command, options.interpreter, 'inference script', 'start the endpoint again'));
  });
  const reportDeath = () => {
    const last = outputTail.at(-1);
    die(`its process ${exitedHow}${last ? `; its last words: ${last}` : ''}`);
    if (gone) return;
    gone = true;
    void rm(options.tmpDir, { recursive: true, force: true })
      .catch(() => {})
      .then(() => options.onGone?.());
  };
  child.on('exit', (code, signal) => {
    exited = true;
    exitedHow = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    // What the script started dies with it, which also closes the pipes it held.
    killGroup();
    // Something that left the process group may hold the pipes open: the death is reported anyway, after a moment for its output.
    setTimeout(reportDeath, DRAIN_MS).unref();
  });
  // After the last of its output has been read: a load failure's reply and traceback come before the death they explain.
  child.on('close', reportDeath);
  const send = (header: object, body?: Uint8Array) => toWorker.write(encodeFrame(header, body));
  const unavailable = () => dead ?? new DomainError('ServiceUnavailable', `The instance serving variant ${options.variantName} stopped (its process ${exitedHow}); retry the request`);

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            loadFailedMessage !== undefined
              ? loadFailure(loadFailedMessage, outputTail, options.logHint)
              : new DomainError('ServiceUnavailable', `model_fn did not finish within ${Math.round(options.startTimeoutMs / 1000)} s`),
          ),
        options.startTimeoutMs,
      );
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
      return dead === undefined && !exited;
    },
    invoke(request: ScriptRequest) {
      if (dead || exited) return Promise.reject(unavailable());
      const id = nextId++;
      return new Promise<ScriptResponse>((resolve, reject) => {
        // The invocation's own deadline, its wait behind others included, as SageMaker's timeout covers the whole call. The caller
        // is answered then; the model server still gets to the request, and its answer is dropped (the entry keeps the order).
        const deadline = setTimeout(() => {
          const pending = waiting.get(id);
          if (!pending || pending.abandoned) return;
          pending.abandoned = true;
          pending.reject(timedOut());
        }, options.timeoutMs);
        waiting.set(id, { resolve, reject, sentMs: performance.now(), deadline });
        send({ kind: 'invoke', id, contentType: request.contentType ?? '', accept: request.accept ?? '', customAttributes: request.customAttributes ?? '' }, request.body);
        timeHead();
      });
    },
    ping() {
      if (dead || exited) return Promise.reject(unavailable());
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        pinging.set(id, { resolve, reject });
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
      // The model server answers what it was sent, then exits; one that takes longer than the grace period is killed.
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      send({ kind: 'close' });
      const timer = setTimeout(killGroup, CLOSE_GRACE_MS);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** The script's content type if it can go in a header as it is (printable ASCII, no line breaks), else application/octet-stream. */
function responseContentType(value: unknown): string {
  return typeof value === 'string' && value.length <= 256 && /^[\x21-\x7e][\x20-\x7e]*$/.test(value) ? value : 'application/octet-stream';
}

/** model_fn (or importing the script) failed: the reason names the error, with the traceback's frame that raised it. */
function loadFailure(message: string, outputTail: readonly string[], logHint: string): DomainError {
  const where = raisedAt(outputTail);
  return new DomainError('ValidationError', `the inference script failed to load (model_fn or its import raised ${message})${where ? ` at ${where.trim()}` : ''}. ${logHint}`);
}

/** The frame that raised, from the last traceback in the log: Python's is its last `File "…"` line, a Node.js stack's the first of its `at …` lines. */
function raisedAt(outputTail: readonly string[]): string | undefined {
  const isNodeFrame = (line: string) => /^\s+at /.test(line);
  let last = outputTail.length - 1;
  while (last >= 0 && !/^\s*File "/.test(outputTail[last]!) && !isNodeFrame(outputTail[last]!)) last--;
  if (last < 0 || !isNodeFrame(outputTail[last]!)) return outputTail[last];
  while (last > 0 && isNodeFrame(outputTail[last - 1]!)) last--;
  return outputTail[last]!.trim().replace(/^at /, '');
}

/** The container answered with an error: SageMaker's ModelError, carrying its status and message. */
function modelError(status: number, message: string, logHint: string): DomainError {
  const side = status < 500 ? 'client' : 'server';
  return new DomainError('ModelError', `Received ${side} error (${status}) from primary with message "${message}". ${logHint}`, {
    originalStatusCode: status,
    originalMessage: message,
  });
}
