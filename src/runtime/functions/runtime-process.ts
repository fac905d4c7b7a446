import { spawn, type ChildProcess } from 'node:child_process';
import { describeError } from '../../core/errors.ts';
import type { InvocationLog } from './invocation-log.ts';
import type { Launch } from './sandbox.ts';

/** After the process exits: how long what it left running may hold its output open before Kennel stops reading. */
const DRAIN_MS = 500;

export interface ProcessExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  spawnError?: string;
}

/** Go's names for signals, which Lambda's "Runtime exited with error: signal: ..." messages use. */
const SIGNAL_NAMES: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGTERM: 'terminated',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
  SIGFPE: 'floating point exception',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGPIPE: 'broken pipe',
};

/** 'exit status 1', 'signal: killed': how Lambda says a runtime ended. */
export function describeExit(exit: ProcessExit): string {
  if (exit.spawnError !== undefined) return `could not start: ${exit.spawnError}`;
  if (exit.signal !== null) return `signal: ${SIGNAL_NAMES[exit.signal] ?? exit.signal}`;
  return `exit status ${exit.exitCode}`;
}

/** Every runtime still running, killed when Kennel exits (the launcher's parent-death signal covers a Kennel that is killed). */
const running = new Set<RuntimeProcess>();
let killOnExit = false;

/**
 * A function's runtime process, in a process group of its own: when it ends,
 * everything it started is killed with it, and its output is read to the end
 * into the log. A process that leaves the group on purpose (setsid) escapes
 * the kill; containing those needs cgroups, which Kennel does not use.
 */
export class RuntimeProcess {
  private exit: ProcessExit | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly exited: Promise<ProcessExit>,
  ) {}

  static spawn(launch: Launch, log: InvocationLog): RuntimeProcess {
    const child = spawn(launch.file, launch.args, {
      cwd: launch.cwd,
      env: launch.env,
      detached: true,
      stdio: [launch.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const stdout = log.stream();
    const stderr = log.stream();
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    if (launch.stdin !== undefined) {
      // A launcher that dies before reading is reported by its exit, not by this write.
      child.stdin!.on('error', () => {});
      child.stdin!.end(launch.stdin);
    }
    let runtime!: RuntimeProcess;
    const exited = new Promise<ProcessExit>((resolve) => {
      let drainTimer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (exit: ProcessExit) => {
        if (settled) return;
        settled = true;
        clearTimeout(drainTimer);
        runtime.exit = exit;
        log.end();
        resolve(exit);
      };
      child.on('error', (error) => {
        // Node also reports a failed kill here; only a failed start ends the process.
        if (child.pid === undefined) settle({ exitCode: null, signal: null, spawnError: describeError(error) });
      });
      child.on('exit', (exitCode, signal) => {
        const exit = { exitCode, signal };
        runtime.exit = exit;
        signalGroup(child.pid!, 'SIGKILL');
        drainTimer = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          settle(exit);
        }, DRAIN_MS);
      });
      child.on('close', (exitCode: number | null, signal: NodeJS.Signals | null) => settle(runtime.exit ?? { exitCode, signal }));
    });
    runtime = new RuntimeProcess(child, exited);
    running.add(runtime);
    void exited.then(() => running.delete(runtime));
    if (!killOnExit) {
      killOnExit = true;
      process.on('exit', () => {
        for (const each of running) each.kill();
      });
    }
    return runtime;
  }

  /** 0 when the process never started. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  get alive(): boolean {
    return this.exit === undefined && this.child.pid !== undefined;
  }

  /** Kills the process and its group at once: a function gets no grace period, as on Lambda. */
  kill(): void {
    if (this.child.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
