import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, DomainError } from '../../core/errors.ts';
import type { Interpreter } from '../../domain/training/script-mode.ts';

export type OutputStream = 'stdout' | 'stderr';

export interface ScriptCommand {
  file: string;
  args: string[];
}

/**
 * The command that runs `program` with `args`. Python is `python3` as found on
 * PATH, or the interpreter KENNEL_PYTHON names (a virtualenv's, say, that has
 * torch installed); Node is the Node.js that runs Kennel.
 */
export function scriptCommand(interpreter: Interpreter, program: string, args: readonly string[], serverEnv: NodeJS.ProcessEnv = process.env): ScriptCommand {
  const file = interpreter === 'node' ? process.execPath : serverEnv.KENNEL_PYTHON || 'python3';
  return { file, args: [program, ...args] };
}

export interface RunScriptOptions {
  interpreter: Interpreter;
  /** The entry point, relative to `cwd`. */
  program: string;
  args: readonly string[];
  /** The training contract (scriptEnvironment); the script gets nothing else of the server's environment but PATH, HOME and LANG. */
  env: Readonly<Record<string, string>>;
  cwd: string;
  /** Aborting stops the script: SIGTERM to its process group, SIGKILL after stopGraceMs. */
  signal?: AbortSignal;
  /** Aborting kills the script's process group at once (Kennel is shutting down and cannot wait out the grace period). */
  killSignal?: AbortSignal;
  /** Called once the script's process has started, with its pid (which is also its process group's id). */
  onSpawn?: (pid: number) => void;
  /** Each line the script prints, without its line ending. A throw stops the script, and runScript rejects with it. */
  onLine: (stream: OutputStream, line: string) => void;
  /** Stops the script as an abort does once it has run this long. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL; SageMaker gives 120 s. */
  stopGraceMs?: number;
  /** Longer lines are cut here, so a script printing without newlines cannot exhaust memory. */
  maxLineChars?: number;
}

export interface ScriptExit {
  /** The exit code, or null when a signal ended the script. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when Kennel stopped the script, by an abort or the timeout. */
  stoppedBy?: 'abort' | 'timeout';
  /** The script outlived the grace period after SIGTERM and was killed. */
  killedAfterGrace: boolean;
}

export const DEFAULT_STOP_GRACE_MS = 120_000;
export const DEFAULT_MAX_LINE_CHARS = 64 * 1024;
/** After the script exits: how long what it left running may hold its output open before Kennel stops reading. */
const DRAIN_MS = 2_000;
const FALLBACK_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Splits a byte stream into UTF-8 lines, holding a partial line until its newline comes; a line past `maxChars` is cut there, the rest of it dropped. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private line = '';
  private cut = false;

  constructor(
    private readonly maxChars: number,
    private readonly emit: (line: string) => void,
  ) {}

  push(chunk: Buffer): void {
    this.feed(this.decoder.write(chunk));
  }

  end(): void {
    this.feed(this.decoder.end());
    if (this.line !== '' || this.cut) this.flush();
  }

  private feed(text: string): void {
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      this.append(text.slice(start, newline));
      this.flush();
      start = newline + 1;
    }
    this.append(text.slice(start));
  }

  private append(text: string): void {
    if (this.cut) return;
    const room = this.maxChars - this.line.length;
    this.cut = text.length > room;
    this.line += this.cut ? text.slice(0, room) : text;
  }

  private flush(): void {
    const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
    const cut = this.cut;
    this.line = '';
    this.cut = false;
    this.emit(cut ? `${line}… [line cut at ${this.maxChars} characters]` : line);
  }
}

/** A script's environment: PATH, HOME and LANG of the server's, PYTHONUNBUFFERED, then `contract`, which wins. */
export function childEnvironment(contract: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? FALLBACK_PATH };
  for (const name of ['HOME', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // Python buffers stdout written to a pipe; unbuffered, each line reaches the log as it is printed.
  return { ...env, PYTHONUNBUFFERED: '1', ...contract };
}

/** Signals every process in the group; a group that is already gone is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Waits, a bounded time, until no process of the group is left, zombies included. */
async function groupGone(pid: number): Promise<void> {
  for (let waited = 0; waited < DRAIN_MS && signalGroup(pid, 0); waited += 10) await sleep(10);
}

/** Why `command` (a script's interpreter) could not start, and how to fix it; `script` and `again` say what it was for. */
export function spawnFailure(error: unknown, command: ScriptCommand, interpreter: Interpreter, script = 'training script', again = 'run the job again'): DomainError {
  const code = (error as NodeJS.ErrnoException).code;
  const fix =
    interpreter === 'python'
      ? `Install Python 3 so that python3 is on PATH, or set KENNEL_PYTHON to the path of the interpreter to use, then ${again}`
      : 'Check the Node.js installation that runs Kennel';
  const what = code === 'ENOENT' ? 'was not found' : code === 'EACCES' ? 'is not executable' : `could not be started (${describeError(error)})`;
  return new DomainError('ServiceUnavailable', `Cannot run the ${script}: the interpreter ${command.file} ${what}. ${fix}.`, { interpreter: command.file });
}

/**
 * Runs a training script as a child process in its own process group, and
 * streams its output line by line. It ends when the script does: everything
 * the script started is killed with it, as a container's processes die with
 * its main process, so no orphan is left running. A process that leaves the
 * group on purpose (setsid, a daemon) escapes this; containing those needs
 * a container or cgroup, which Kennel does not use.
 */
export async function runScript(options: RunScriptOptions): Promise<ScriptExit> {
  const { signal, onLine, timeoutMs, stopGraceMs = DEFAULT_STOP_GRACE_MS, maxLineChars = DEFAULT_MAX_LINE_CHARS } = options;
  const command = scriptCommand(options.interpreter, options.program, options.args);
  const cwd = await stat(options.cwd).catch(() => undefined);
  if (!cwd?.isDirectory()) throw new DomainError('Internal', `the script's working folder ${options.cwd} does not exist`);
  if (signal?.aborted || options.killSignal?.aborted) return { exitCode: null, signal: null, stoppedBy: 'abort', killedAfterGrace: false };

  return new Promise<ScriptExit>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command.file, command.args, { cwd: options.cwd, env: childEnvironment(options.env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      reject(spawnFailure(error, command, options.interpreter));
      return;
    }
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let stoppedBy: ScriptExit['stoppedBy'];
    let callbackError: { error: unknown } | undefined;
    let killedAfterGrace = false;
    let exit: Pick<ScriptExit, 'exitCode' | 'signal'> | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    const runTimer = timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), timeoutMs);

    const terminate = () => {
      if (exit !== undefined || graceTimer !== undefined || child.pid === undefined) return;
      const pid = child.pid;
      signalGroup(pid, 'SIGTERM');
      graceTimer = setTimeout(() => {
        killedAfterGrace = true;
        signalGroup(pid, 'SIGKILL');
      }, stopGraceMs);
    };
    const stop = (cause: 'abort' | 'timeout') => {
      stoppedBy ??= cause;
      terminate();
    };
    const onAbort = () => stop('abort');
    signal?.addEventListener('abort', onAbort, { once: true });
    const onKill = () => {
      stoppedBy ??= 'abort';
      if (exit === undefined && child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    };
    options.killSignal?.addEventListener('abort', onKill, { once: true });

    const deliver = (stream: OutputStream) => (line: string) => {
      if (callbackError !== undefined) return;
      try {
        onLine(stream, line);
      } catch (error) {
        callbackError = { error };
        terminate();
      }
    };
    const stdout = new LineSplitter(maxLineChars, deliver('stdout'));
    const stderr = new LineSplitter(maxLineChars, deliver('stderr'));
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));

    const cleanUp = () => {
      clearTimeout(runTimer);
      clearTimeout(graceTimer);
      clearTimeout(drainTimer);
      signal?.removeEventListener('abort', onAbort);
      options.killSignal?.removeEventListener('abort', onKill);
    };
    child.on('error', (error) => {
      // Node also reports a failed kill here; only a failed start ends the run.
      if (child.pid !== undefined) return;
      cleanUp();
      reject(spawnFailure(error, command, options.interpreter));
    });
    child.on('exit', (exitCode, exitSignal) => {
      exit = { exitCode, signal: exitSignal };
      clearTimeout(graceTimer);
      clearTimeout(runTimer);
      // What the script started dies with it.
      signalGroup(child.pid!, 'SIGKILL');
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, DRAIN_MS);
    });
    child.on('close', () => {
      if (exit === undefined) return;
      const ended = exit;
      cleanUp();
      void groupGone(child.pid!).then(() => {
        stdout.end();
        stderr.end();
        if (callbackError !== undefined) reject(callbackError.error);
        else resolve({ ...ended, ...(stoppedBy === undefined ? {} : { stoppedBy }), killedAfterGrace });
      }, reject);
    });
  });
}
