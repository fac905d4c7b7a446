import { randomBytes } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { DomainError } from '../../core/errors.ts';
import { endLine, initReportLine, reportLine, startLine, timedOutLine, timeoutSecondsText, billedDurationMs } from '../../domain/functions/report-line.ts';
import { InvocationLog } from './invocation-log.ts';
import { BUSY_POLL_MS, IDLE_POLL_MS, MemoryWatch } from './memory-watch.ts';
import { RuntimeApi, type InitError, type RuntimeAnswer } from './runtime-api.ts';
import { STORAGE_BUSY_POLL_MS, STORAGE_IDLE_POLL_MS, StorageWatch, storageExceededExit, type StorageUse } from './storage-watch.ts';
import { describeExit, RuntimeProcess, type ProcessExit } from './runtime-process.ts';
import { runtimeFamily } from './runtimes.ts';
import { planLaunch, unsupportedRuntime, type IsolationLayer } from './sandbox.ts';
import type { EnvironmentSpec, Invocation, InvocationOutcome } from './types.ts';

/** Lambda's limit on the init phase. */
export const INIT_TIMEOUT_MS = 10_000;
/** The Node.js bootstrap's exit code for "start me again with the ES module resolve hook". */
const RESTART_WITH_RESOLVE_HOOK = 87;
/** Kennel's bootstraps write the marker before they post the answer: it is normally there first. */
const MARKER_WAIT_MS = 200;
/** For a runtime that writes no marker: a moment for its last lines to arrive. */
const MARKERLESS_DRAIN_MS = 10;
/** After a runtime reports an init error it is expected to exit; this long, then it is killed. */
const INIT_ERROR_EXIT_MS = 500;
/** Lambda's default EphemeralStorage. */
const DEFAULT_EPHEMERAL_STORAGE_MB = 512;

export type EnvironmentState = 'idle' | 'busy' | 'dead';

export interface StartOptions {
  /** Lambda's 10 s unless given. */
  initTimeoutMs?: number;
  /** Provisioned environments are initialised ahead of demand: their first invocation reports no Init Duration. */
  initializationType?: 'on-demand' | 'provisioned-concurrency';
  /** Use Landlock where the kernel has it (the default); false leaves only the fallbacks, as on a kernel without it. */
  landlock?: boolean;
  /** Where KENNEL_PYTHON is read from. */
  serverEnv?: NodeJS.ProcessEnv;
}

export type EnvironmentStart =
  | { ok: true; environment: ExecutionEnvironment; initDurationMs: number; logs: string }
  | { ok: false; errorType: string; errorMessage: string; payload: Buffer; initDurationMs: number; logs: string };

export type EnvironmentExit = ProcessExit;

/** Code folders whose Node.js handler needed the ES module resolve hook: later environments start with it. */
const needsResolveHook = new Set<string>();

type InitResult =
  | { kind: 'ready' }
  | { kind: 'init-error'; error: InitError }
  | { kind: 'exit'; exit: ProcessExit }
  | { kind: 'timeout'; afterMs: number }
  | { kind: 'out-of-memory' }
  | { kind: 'out-of-storage' };

interface ActiveInvocation {
  invocation: Invocation;
  resolve: (outcome: InvocationOutcome) => void;
  earlierLines: string[];
  invokedAt: number;
  deliveredAt?: number;
  endedAt?: number;
  answer?: RuntimeAnswer;
  killedFor?: 'timeout' | 'out-of-memory' | 'out-of-storage' | 'close';
  timer: NodeJS.Timeout;
  done: boolean;
}

const logText = (lines: readonly string[]) => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);
const errorJson = (errorType: string, errorMessage: string) => Buffer.from(JSON.stringify({ errorMessage, errorType }));

/**
 * One Lambda execution environment: one runtime process, serving one
 * invocation at a time through its own Runtime API, in its sandbox.
 *
 * It never outlives close(): the process and the Runtime API go with it. It
 * owns nothing on disk; the code and tmp folders are the caller's.
 */
export class ExecutionEnvironment {
  private currentState: EnvironmentState = 'idle';
  private active: ActiveInvocation | undefined;
  private initDurationMs = 0;
  private initReported: boolean;
  private markerless = false;
  private readonly exitListeners: Array<(exit: EnvironmentExit) => void> = [];
  private settleInit: ((result: InitResult) => void) | undefined;
  private closing: Promise<void> | undefined;
  private process!: RuntimeProcess;
  private spawnedAt = 0;
  private initEndedAt = 0;
  private memory!: MemoryWatch;
  private storage!: StorageWatch;
  /** What the storage watch found when it stopped the function. */
  private storageOverrun: StorageUse | undefined;
  private api!: RuntimeApi;
  private layers: IsolationLayer[] = [];

  private constructor(
    private readonly spec: EnvironmentSpec,
    private readonly log: InvocationLog,
    initializationType: 'on-demand' | 'provisioned-concurrency',
  ) {
    this.initReported = initializationType === 'provisioned-concurrency';
  }

  /**
   * Starts the runtime and resolves when its init is done (it asked for its
   * first event) or failed: an init error, an exit, more than 10 s, or more
   * memory than it has. Either way nothing is left running when it fails.
   */
  static async start(spec: EnvironmentSpec, options: StartOptions = {}): Promise<EnvironmentStart> {
    if (runtimeFamily(spec.runtime) === undefined) throw unsupportedRuntime(spec.runtime);
    if (!(spec.memorySizeMb > 0) || !(spec.timeoutSeconds > 0)) {
      throw new DomainError('ValidationError', `MemorySize and Timeout must be positive; got ${spec.memorySizeMb} MB and ${spec.timeoutSeconds} s.`);
    }
    const hookKey = `${await realpath(spec.codeDir)}\0${spec.handler}`;
    let resolveHook = needsResolveHook.has(hookKey);
    let firstSpawnAt: number | undefined;
    for (;;) {
      const environment = new ExecutionEnvironment(spec, new InvocationLog(`kennel-end-${randomBytes(12).toString('hex')}`), options.initializationType ?? 'on-demand');
      const result = await environment.init(options, resolveHook);
      firstSpawnAt ??= environment.spawnedAt;
      if (result.kind === 'exit' && result.exit.exitCode === RESTART_WITH_RESOLVE_HOOK && !resolveHook) {
        needsResolveHook.add(hookKey);
        resolveHook = true;
        continue;
      }
      // Init Duration is the runtime's, from its spawn (the first, when it had to start again with the hook) to its first request.
      return environment.started(result, environment.initEndedAt - firstSpawnAt);
    }
  }

  private get ephemeralStorageMb(): number {
    return this.spec.ephemeralStorageMb ?? DEFAULT_EPHEMERAL_STORAGE_MB;
  }

  get state(): EnvironmentState {
    return this.currentState;
  }

  /** Which isolation this environment's process runs under. */
  get isolation(): readonly IsolationLayer[] {
    return this.layers;
  }

  /** Called once, when the runtime process has ended, whatever ended it. */
  onExit(listener: (exit: EnvironmentExit) => void): void {
    this.exitListeners.push(listener);
  }

  /** Runs one invocation. Refused while another runs, or once the environment is dead. */
  invoke(invocation: Invocation): Promise<InvocationOutcome> {
    if (this.currentState === 'dead') return Promise.reject(new DomainError('Conflict', 'This execution environment has stopped; start another one for the invocation.'));
    if (this.currentState === 'busy') {
      return Promise.reject(new DomainError('Conflict', 'This execution environment is running another invocation; an environment runs one invocation at a time.'));
    }
    this.currentState = 'busy';
    return new Promise((resolve) => {
      const timeoutMs = this.spec.timeoutSeconds * 1000;
      this.active = {
        invocation,
        resolve,
        earlierLines: this.log.take(),
        invokedAt: performance.now(),
        timer: setTimeout(() => this.kill('timeout'), timeoutMs),
        done: false,
      };
      this.memory.resetPeak();
      this.memory.start(BUSY_POLL_MS);
      this.storage.start(STORAGE_BUSY_POLL_MS);
      this.api.deliver(invocation, Date.now() + timeoutMs);
    });
  }

  /** Kills the process and closes the Runtime API; an invocation in progress ends with Runtime.ExitError. */
  close(): Promise<void> {
    this.currentState = 'dead';
    this.closing ??= (async () => {
      if (this.active !== undefined && !this.active.done) this.active.killedFor ??= 'close';
      this.process.kill();
      await this.process.exited;
      await this.api.close();
    })();
    return this.closing;
  }

  private async init(options: StartOptions, resolveHook: boolean): Promise<InitResult> {
    const initResult = new Promise<InitResult>((resolve) => (this.settleInit = resolve));
    this.api = await RuntimeApi.listen({
      onReady: () => this.settleInit?.({ kind: 'ready' }),
      onDelivered: () => {
        if (this.active !== undefined) this.active.deliveredAt = performance.now();
      },
      onAnswer: (requestId, answer) => void this.answered(requestId, answer),
      onInitError: (error) => this.settleInit?.({ kind: 'init-error', error }),
    });
    try {
      const launch = await planLaunch({
        spec: this.spec,
        runtimeApi: this.api.address,
        marker: this.log.marker,
        resolveHook,
        useLandlock: options.landlock ?? true,
        initializationType: options.initializationType ?? 'on-demand',
        serverEnv: options.serverEnv,
      });
      this.layers = launch.isolation;
      this.spawnedAt = performance.now();
      this.process = RuntimeProcess.spawn(launch, this.log);
    } catch (error) {
      await this.api.close();
      throw error;
    }
    this.memory = new MemoryWatch(this.process.pid, this.spec.memorySizeMb, () => this.kill('out-of-memory'));
    this.memory.start(BUSY_POLL_MS);
    this.storage = new StorageWatch(this.process.pid, this.spec.tmpDir, this.ephemeralStorageMb, (use) => {
      this.storageOverrun = use;
      this.kill('out-of-storage');
    });
    this.storage.start(STORAGE_BUSY_POLL_MS);
    void this.process.exited.then((exit) => this.exited(exit));
    const initTimeoutMs = options.initTimeoutMs ?? INIT_TIMEOUT_MS;
    const timer = setTimeout(() => this.settleInit?.({ kind: 'timeout', afterMs: initTimeoutMs }), initTimeoutMs);
    const result = await initResult;
    this.initEndedAt = performance.now();
    clearTimeout(timer);
    this.settleInit = undefined;
    this.memory.start(IDLE_POLL_MS);
    this.storage.start(STORAGE_IDLE_POLL_MS);
    // The resident size at the end of init: where the first invocation's peak starts.
    this.memory.peakMb();
    if (result.kind === 'init-error') {
      await Promise.race([this.process.exited, new Promise((resolve) => setTimeout(resolve, INIT_ERROR_EXIT_MS))]);
    }
    if (result.kind !== 'ready') await this.close();
    return result;
  }

  private started(result: InitResult, initDurationMs: number): EnvironmentStart {
    this.initDurationMs = initDurationMs;
    const lines = this.log.take();
    if (result.kind === 'ready') return { ok: true, environment: this, initDurationMs, logs: logText(lines) };
    const [errorType, errorMessage, payload] = this.initFailure(result);
    const status = result.kind === 'timeout' ? 'timeout' : 'error';
    const report = initReportLine({ initDurationMs, status, ...(status === 'error' ? { errorType } : {}) });
    return { ok: false, errorType, errorMessage, payload, initDurationMs, logs: logText([...lines, report]) };
  }

  private initFailure(result: Exclude<InitResult, { kind: 'ready' }>): [string, string, Buffer] {
    switch (result.kind) {
      case 'init-error':
        return [result.error.errorType, result.error.errorMessage, result.error.payload];
      case 'timeout': {
        const message = `Init timed out after ${timeoutSecondsText(result.afterMs / 1000)} seconds`;
        return ['Sandbox.Timedout', message, errorJson('Sandbox.Timedout', message)];
      }
      case 'out-of-memory': {
        const message = 'Runtime exited with error: signal: killed';
        return ['Runtime.OutOfMemory', message, errorJson('Runtime.OutOfMemory', message)];
      }
      case 'out-of-storage': {
        const message = `Runtime exited with error: ${storageExceededExit(this.storageOverrun!, this.ephemeralStorageMb)}`;
        return ['Runtime.ExitError', message, errorJson('Runtime.ExitError', message)];
      }
      case 'exit': {
        const message = `Runtime exited with error: ${describeExit(result.exit)}`;
        return ['Runtime.ExitError', message, errorJson('Runtime.ExitError', message)];
      }
    }
  }

  private kill(reason: 'timeout' | 'out-of-memory' | 'out-of-storage'): void {
    if (this.settleInit !== undefined) {
      if (reason !== 'timeout') this.settleInit({ kind: reason });
      return;
    }
    const active = this.active;
    // Between invocations only memory or storage can run out: what the function left running goes with the environment.
    if (active === undefined) return this.process.kill();
    if (active.done || active.answer !== undefined) return;
    active.killedFor ??= reason;
    active.endedAt = performance.now();
    this.api.abandon();
    this.process.kill();
  }

  private async answered(requestId: string, answer: RuntimeAnswer): Promise<void> {
    const active = this.active;
    if (active === undefined || active.done || active.invocation.requestId !== requestId || active.killedFor !== undefined) return;
    active.endedAt = performance.now();
    active.answer = answer;
    clearTimeout(active.timer);
    const marker = await this.log.waitForMarker(requestId, this.markerless ? MARKERLESS_DRAIN_MS : MARKER_WAIT_MS);
    if (marker === undefined && !this.log.markersSeen) this.markerless = true;
    if (marker === 'exit') await this.process.exited;
    if (active.done) return;
    const peakMb = this.memory.peakMb();
    if (peakMb > this.spec.memorySizeMb) {
      // Lambda's cgroup would have stopped it there, however briefly it went over.
      active.killedFor = 'out-of-memory';
      this.process.kill();
      return;
    }
    this.finish(active, this.answerOutcome(answer), peakMb);
  }

  private exited(exit: ProcessExit): void {
    this.currentState = 'dead';
    this.memory?.close();
    this.storage?.close();
    this.settleInit?.({ kind: 'exit', exit });
    void this.api.close();
    const active = this.active;
    if (active !== undefined && !active.done) {
      active.endedAt ??= performance.now();
      if (active.killedFor === 'timeout') this.finish(active, this.timeoutOutcome(active));
      else if (active.killedFor === 'out-of-memory') this.finish(active, this.exitOutcome(active, 'Runtime.OutOfMemory', 'signal: killed'));
      else if (active.killedFor === 'out-of-storage') this.finish(active, this.exitOutcome(active, 'Runtime.ExitError', storageExceededExit(this.storageOverrun!, this.ephemeralStorageMb)));
      else if (active.answer !== undefined) this.finish(active, this.answerOutcome(active.answer));
      else this.finish(active, this.exitOutcome(active, 'Runtime.ExitError', describeExit(exit)));
    }
    for (const listener of this.exitListeners.splice(0)) listener(exit);
  }

  private answerOutcome(answer: RuntimeAnswer): Partial<InvocationOutcome> & { payload: Buffer } {
    if (answer.kind === 'response') return { payload: answer.payload };
    return { payload: answer.payload, functionError: 'Unhandled', errorType: answer.errorType };
  }

  private timeoutOutcome(active: ActiveInvocation): Partial<InvocationOutcome> & { payload: Buffer; extraLines: string[] } {
    const { requestId } = active.invocation;
    const seconds = timeoutSecondsText(this.spec.timeoutSeconds);
    return {
      payload: errorJson('Sandbox.Timedout', `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`),
      functionError: 'Unhandled',
      errorType: 'Sandbox.Timedout',
      extraLines: [timedOutLine(new Date().toISOString(), requestId, this.spec.timeoutSeconds)],
    };
  }

  private exitOutcome(active: ActiveInvocation, errorType: string, how: string): Partial<InvocationOutcome> & { payload: Buffer; extraLines: string[] } {
    const message = `RequestId: ${active.invocation.requestId} Error: Runtime exited with error: ${how}`;
    return { payload: errorJson(errorType, message), functionError: 'Unhandled', errorType, extraLines: [message, errorType] };
  }

  /** `peakMb` when it has just been read; otherwise the last reading (the process may be gone). */
  private finish(active: ActiveInvocation, result: Partial<InvocationOutcome> & { payload: Buffer; extraLines?: string[] }, peakMb = this.memory.peakMb()): void {
    active.done = true;
    clearTimeout(active.timer);
    this.memory.start(IDLE_POLL_MS);
    this.storage.start(STORAGE_IDLE_POLL_MS);
    this.active = undefined;
    const { requestId } = active.invocation;
    const endedAt = active.endedAt ?? performance.now();
    // The handler's time counts, from the event's delivery; a timed-out invocation ran its whole timeout
    // (a timer can fire a fraction of a millisecond early by performance.now()).
    const measuredMs = Math.max(0, endedAt - (active.deliveredAt ?? active.invokedAt));
    const durationMs = active.killedFor === 'timeout' ? Math.max(measuredMs, this.spec.timeoutSeconds * 1000) : measuredMs;
    const lost = active.killedFor !== undefined || !this.process.alive;
    const maxMemoryUsedMb = active.killedFor === 'out-of-memory' ? this.spec.memorySizeMb : peakMb;
    const initDurationMs = this.initReported ? undefined : this.initDurationMs;
    this.initReported = true;
    const status = active.killedFor === 'timeout' ? 'timeout' : result.extraLines !== undefined ? 'error' : undefined;
    const lines = [
      ...active.earlierLines,
      startLine(requestId, this.spec.functionVersion),
      ...this.log.take(),
      ...(result.extraLines ?? []),
      endLine(requestId),
      reportLine({
        requestId,
        durationMs,
        memorySizeMb: this.spec.memorySizeMb,
        maxMemoryUsedMb,
        ...(initDurationMs === undefined ? {} : { initDurationMs }),
        ...(status === undefined ? {} : { status }),
        ...(status === 'error' ? { errorType: result.errorType } : {}),
      }),
    ];
    if (!lost) this.currentState = 'idle';
    active.resolve({
      requestId,
      payload: result.payload,
      ...(result.functionError === undefined ? {} : { functionError: result.functionError, errorType: result.errorType }),
      durationMs,
      billedDurationMs: billedDurationMs(durationMs),
      maxMemoryUsedMb,
      ...(initDurationMs === undefined ? {} : { initDurationMs }),
      logs: logText(lines),
      environmentLost: lost,
    });
  }
}
