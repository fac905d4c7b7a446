import { describeError } from '../core/errors.ts';
import type { LambdaFunction } from '../domain/functions/function.ts';
import { nextFunctionStatus } from '../domain/functions/function-state.ts';
import { planProvisioned } from '../domain/functions/concurrency.ts';
import type { ControlDeps } from './deps.ts';
import type { FunctionCodeStore } from './function-code.ts';
import type { EnvironmentPool, EnvironmentTarget } from './function-environments.ts';
import { sandboxTarget } from './function-sandboxes.ts';
import type { FunctionService } from './functions.ts';
import type { Reconciler } from './reconciler.ts';

/**
 * Brings functions to what was asked: new code unpacked (State Pending →
 * Active, LastUpdateStatus InProgress → Successful, or Failed with Lambda's
 * reason), provisioned environments started and counted (IN_PROGRESS →
 * READY), and environments that are idle, outdated or orphaned retired.
 */
export class FunctionReconciler implements Reconciler {
  readonly name = 'functions';
  readonly #deps: ControlDeps;
  readonly #functions: FunctionService;
  readonly #code: FunctionCodeStore;
  readonly #pool: EnvironmentPool;
  readonly #kick: () => void;
  readonly #work = new Map<string, Promise<void>>();
  /** Init failures of provisioned environments, by config, until the config changes. */
  readonly #provisionFailures = new Map<string, string>();

  constructor(deps: ControlDeps, functions: FunctionService, code: FunctionCodeStore, pool: EnvironmentPool, kick: () => void) {
    this.#deps = deps;
    this.#functions = functions;
    this.#code = code;
    this.#pool = pool;
    this.#kick = kick;
  }

  async reconcile(): Promise<void> {
    const functions = this.#functions.list();
    for (const fn of functions) {
      if (fn.state === 'Pending' || fn.lastUpdateStatus === 'InProgress') this.#inBackground(`code:${fn.name}:${fn.code.digest}`, () => this.#applyCode(fn));
      else if (fn.state === 'Active') this.#provision(fn);
    }
    this.#pool.reap(this.#deps.functions.idleEnvironmentMs, (target, provisionedFor) => this.#isCurrent(target, provisionedFor));
  }

  async settled(): Promise<void> {
    while (this.#work.size > 0) await Promise.all([...this.#work.values()]);
  }

  async close(): Promise<void> {
    await this.settled();
    await this.#pool.closeAll();
  }

  #inBackground(key: string, work: () => Promise<void>): void {
    if (this.#work.has(key)) return;
    const running = work()
      .catch((error: unknown) => this.#deps.logger.error('function reconcile failed', { key, error: describeError(error) }))
      .finally(() => {
        this.#work.delete(key);
        this.#kick();
      });
    this.#work.set(key, running);
  }

  async #applyCode(fn: LambdaFunction): Promise<void> {
    let failure: { reason: string; reasonCode: string } | undefined;
    try {
      await this.#code.unpacked(fn.code);
    } catch (error) {
      failure = { reason: `Lambda could not unpack the deployment package: ${describeError(error)}`, reasonCode: 'InvalidZipFileException' };
    }
    const current = this.#deps.store.lambdaFunctions.get(fn.name);
    // An update that came in meanwhile (other code, or the function deleted) is the next pass's to apply.
    if (!current || current.code.digest !== fn.code.digest) return;
    this.#deps.store.lambdaFunctions.modify(fn.name, (record) => ({ ...record, ...nextFunctionStatus(record, failure ? { kind: 'failed', ...failure } : { kind: 'ready' }) }));
  }

  #provision(fn: LambdaFunction): void {
    for (const [qualifier, config] of Object.entries(fn.provisionedConcurrency)) {
      const provisionedFor = `${fn.name}:${qualifier}`;
      let target: EnvironmentTarget;
      try {
        const resolved = this.#functions.resolve(fn.name, qualifier);
        target = sandboxTarget(fn.name, resolved.version, resolved.settings);
      } catch {
        continue;
      }
      const counts = this.#pool.provisionedCounts(provisionedFor);
      const failure = this.#provisionFailures.get(`${provisionedFor}:${config.lastModifiedMs}`);
      const plan = planProvisioned({ requested: config.requested, ready: counts.ready, initialising: counts.starting, ...(failure ? { failure } : {}) });
      if (plan.status !== config.status || plan.allocated !== config.allocated || plan.available !== config.available || plan.statusReason !== config.statusReason) {
        this.#deps.store.lambdaFunctions.modify(fn.name, (record) => {
          const existing = record.provisionedConcurrency[qualifier];
          if (!existing || existing.lastModifiedMs !== config.lastModifiedMs) return record;
          const { statusReason: _old, ...rest } = existing;
          return {
            ...record,
            provisionedConcurrency: {
              ...record.provisionedConcurrency,
              [qualifier]: { ...rest, status: plan.status, allocated: plan.allocated, available: plan.available, ...(plan.statusReason ? { statusReason: plan.statusReason } : {}) },
            },
          };
        });
      }
      if (failure || plan.start <= 0) continue;
      this.#inBackground(`provision:${provisionedFor}`, async () => {
        const failures = await this.#pool.provision(provisionedFor, target, config.requested);
        if (failures.length > 0) this.#provisionFailures.set(`${provisionedFor}:${config.lastModifiedMs}`, failures[0]!);
      });
    }
  }

  #isCurrent(target: EnvironmentTarget, provisionedFor: string | undefined): boolean {
    const fn = this.#deps.store.lambdaFunctions.get(target.functionName);
    if (!fn) return false;
    if (provisionedFor !== undefined && !fn.provisionedConcurrency[provisionedFor.slice(fn.name.length + 1)]) return false;
    try {
      const resolved = this.#functions.resolve(fn.name, target.version);
      return sandboxTarget(fn.name, resolved.version, resolved.settings).key === target.key;
    } catch {
      return false;
    }
  }
}
