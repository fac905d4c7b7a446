import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { ExecutionEnvironment } from '../runtime/functions/execution-environment.ts';
import type { Invocation, InvocationOutcome } from '../runtime/functions/types.ts';

/** What an environment runs: one function version with one configuration. */
export interface EnvironmentTarget {
  functionName: string;
  /** '$LATEST' or a version number. */
  version: string;
  /** Changes whenever anything an environment was started with changes: environments of another key are never reused. */
  key: string;
  /** The longest an invocation may run: an environment whose credentials end sooner than that is not handed out. */
  timeoutSeconds: number;
}

/** A started environment, or why it could not start (reported to the caller as Lambda reports init errors). */
export type StartedEnvironment =
  | { ok: true; environment: ExecutionEnvironment; credentialsExpireAtMs: number }
  | { ok: false; errorType: string; errorMessage: string; payload: Buffer; logs: string };

/** Provisioned environments are initialised ahead of traffic, so their first invocation reports no Init Duration. */
export type InitializationType = 'on-demand' | 'provisioned-concurrency';

export type EnvironmentStarter = (target: EnvironmentTarget, initializationType: InitializationType) => Promise<StartedEnvironment>;

interface Pooled {
  environment: ExecutionEnvironment;
  target: EnvironmentTarget;
  /** `<function>:<qualifier>` of the provisioned concurrency config it belongs to. */
  provisionedFor?: string;
  busy: boolean;
  lastUsedMs: number;
  credentialsExpireAtMs: number;
}

export interface Lease {
  readonly cold: boolean;
  readonly provisioned: boolean;
  invoke(invocation: Invocation): Promise<InvocationOutcome>;
}

/** Environments whose credentials end sooner than this (or than an invocation could run, if longer) are retired rather than handed out. */
const CREDENTIALS_MARGIN_MS = 5 * 60_000;

function credentialsLastFor(pooled: { credentialsExpireAtMs: number; target: EnvironmentTarget }, nowMs: number): boolean {
  return pooled.credentialsExpireAtMs - nowMs > Math.max(CREDENTIALS_MARGIN_MS, (pooled.target.timeoutSeconds + 60) * 1000);
}

/**
 * The execution environments of this process, per function version and
 * configuration: one invocation at a time each, reused while warm, retired
 * when idle, when their configuration changed, or before their role's
 * credentials expire. Provisioned environments are kept for their config and
 * handed out first; on-demand ones start cold when none is free.
 */
export class EnvironmentPool {
  readonly #pooled = new Set<Pooled>();
  readonly #starting = new Map<string, number>();
  readonly #failures = new Map<string, { count: number; last: string }>();
  #closed = false;
  readonly #start: EnvironmentStarter;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(start: EnvironmentStarter, clock: Clock, logger: Logger) {
    this.#start = start;
    this.#clock = clock;
    this.#logger = logger;
  }

  /**
   * A free warm environment for one invocation, taken at once (no await, so
   * the caller's admission decision and this choice cannot be interleaved with
   * another invocation's): a provisioned one of `provisionedFor` first, then an
   * on-demand one.
   */
  takeWarm(target: EnvironmentTarget, provisionedFor?: string): Lease | undefined {
    const now = this.#clock.now();
    const usable = (pooled: Pooled) => this.#usable(pooled, target, now);
    const free =
      (provisionedFor !== undefined ? this.#find((p) => p.provisionedFor === provisionedFor && usable(p)) : undefined) ?? this.#find((p) => p.provisionedFor === undefined && usable(p));
    return free ? this.#lease(free, false) : undefined;
  }

  /** Provisioned environments of that config free right now, by the same test takeWarm applies. */
  idleProvisioned(target: EnvironmentTarget, provisionedFor: string): number {
    const now = this.#clock.now();
    let idle = 0;
    for (const pooled of this.#pooled) if (pooled.provisionedFor === provisionedFor && this.#usable(pooled, target, now)) idle++;
    return idle;
  }

  #usable(pooled: Pooled, target: EnvironmentTarget, nowMs: number): boolean {
    return !pooled.busy && pooled.target.key === target.key && credentialsLastFor(pooled, nowMs) && pooled.environment.state === 'idle';
  }

  /** A new on-demand environment for one invocation: a cold start. */
  async startCold(target: EnvironmentTarget): Promise<Lease | Extract<StartedEnvironment, { ok: false }>> {
    const started = await this.#start(target, 'on-demand');
    if (!started.ok) return started;
    const pooled: Pooled = { environment: started.environment, target, busy: false, lastUsedMs: this.#clock.now(), credentialsExpireAtMs: started.credentialsExpireAtMs };
    this.#adopt(pooled);
    return this.#lease(pooled, true);
  }

  /** Environments of a provisioned config, ready or starting, and the init failures since the last call (then forgotten). */
  observeProvisioned(provisionedFor: string): { ready: number; starting: number; failed: number; lastInitError?: string } {
    const ready = [...this.#pooled].filter((p) => p.provisionedFor === provisionedFor && p.environment.state !== 'dead').length;
    const failures = this.#failures.get(provisionedFor);
    this.#failures.delete(provisionedFor);
    return { ready, starting: this.#starting.get(provisionedFor) ?? 0, failed: failures?.count ?? 0, ...(failures ? { lastInitError: failures.last } : {}) };
  }

  /** Starts `count` more environments for a provisioned config, in the background; `onSettled` runs as each one is ready or has failed. */
  startProvisioned(provisionedFor: string, target: EnvironmentTarget, count: number, onSettled: () => void): void {
    this.#starting.set(provisionedFor, (this.#starting.get(provisionedFor) ?? 0) + count);
    for (let i = 0; i < count; i++) {
      void this.#start(target, 'provisioned-concurrency')
        .then((started) => {
          if (started.ok) {
            this.#adopt({ environment: started.environment, target, provisionedFor, busy: false, lastUsedMs: this.#clock.now(), credentialsExpireAtMs: started.credentialsExpireAtMs });
          } else {
            const failures = this.#failures.get(provisionedFor) ?? { count: 0, last: '' };
            this.#failures.set(provisionedFor, { count: failures.count + 1, last: `${started.errorType}: ${started.errorMessage}` });
          }
        })
        .finally(() => {
          this.#starting.set(provisionedFor, (this.#starting.get(provisionedFor) ?? 1) - 1);
          onSettled();
        });
    }
  }

  /** Stops up to `count` idle environments of a provisioned config. */
  stopProvisioned(provisionedFor: string, count: number): void {
    const idle = [...this.#pooled].filter((p) => p.provisionedFor === provisionedFor && !p.busy);
    for (const pooled of idle.slice(0, count)) void this.#retire(pooled);
  }

  /**
   * Retires idle on-demand environments unused for `idleMs`, any environment
   * whose target `isCurrent` no longer accepts, or whose credentials are about
   * to end, and provisioned ones whose config is gone.
   */
  reap(idleMs: number, isCurrent: (target: EnvironmentTarget, provisionedFor?: string) => boolean): void {
    const now = this.#clock.now();
    for (const pooled of [...this.#pooled]) {
      if (pooled.busy) continue;
      const idleTooLong = pooled.provisionedFor === undefined && now - pooled.lastUsedMs >= idleMs;
      const expiring = !credentialsLastFor(pooled, now);
      if (idleTooLong || expiring || !isCurrent(pooled.target, pooled.provisionedFor)) this.#retire(pooled);
    }
  }

  /** Closes every environment, and any that a start still running brings up later. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pooled].map((pooled) => this.#retire(pooled)));
  }

  #find(matches: (pooled: Pooled) => boolean): Pooled | undefined {
    for (const pooled of this.#pooled) if (matches(pooled)) return pooled;
    return undefined;
  }

  #adopt(pooled: Pooled): void {
    if (this.#closed) {
      void this.#retire(pooled);
      return;
    }
    this.#pooled.add(pooled);
    pooled.environment.onExit(() => this.#pooled.delete(pooled));
  }

  #lease(pooled: Pooled, cold: boolean): Lease {
    pooled.busy = true;
    return {
      cold,
      provisioned: pooled.provisionedFor !== undefined,
      invoke: async (invocation) => {
        try {
          const outcome = await pooled.environment.invoke(invocation);
          if (outcome.environmentLost) this.#retire(pooled);
          return outcome;
        } finally {
          pooled.busy = false;
          pooled.lastUsedMs = this.#clock.now();
        }
      },
    };
  }

  #retire(pooled: Pooled): Promise<void> {
    this.#pooled.delete(pooled);
    return pooled.environment.close().catch((error: unknown) => {
      this.#logger.warn('closing a function environment failed', { functionName: pooled.target.functionName, error: String(error) });
    });
  }
}
