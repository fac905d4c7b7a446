import { describeError } from '../core/errors.ts';
import type { LambdaFunction } from '../domain/functions/function.ts';
import { decideProvisionedPlan, initialProvisionedPlanState, type ProvisionedPlanState } from '../domain/functions/provisioned-plan.ts';
import type { ControlDeps } from './deps.ts';
import type { FunctionCodeStore } from './function-code.ts';
import type { EnvironmentPool, EnvironmentTarget } from './function-environments.ts';
import { sandboxTarget } from './function-sandboxes.ts';
import { observe, type FunctionService } from './functions.ts';
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
  /** The provisioned plan's memory per config (`<function>:<qualifier>@<lastModifiedMs>`), so a config put again starts afresh. */
  readonly #plans = new Map<string, ProvisionedPlanState>();

  constructor(deps: ControlDeps, functions: FunctionService, code: FunctionCodeStore, pool: EnvironmentPool, kick: () => void) {
    this.#deps = deps;
    this.#functions = functions;
    this.#code = code;
    this.#pool = pool;
    this.#kick = kick;
  }

  async reconcile(nowMs: number): Promise<void> {
    // Outdated environments go first, so the provisioned counts below are of environments that can serve.
    this.#pool.reap(this.#deps.functions.idleEnvironmentMs, (target, provisionedFor) => this.#isCurrent(target, provisionedFor));
    for (const fn of this.#functions.list()) {
      if (fn.state === 'Pending' || fn.lastUpdateStatus === 'InProgress') this.#inBackground(`code:${fn.name}:${fn.code.digest}`, () => this.#applyCode(fn));
      else if (fn.state === 'Active') this.#provision(fn, nowMs);
    }
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
    let failure: string | undefined;
    try {
      await this.#code.unpacked(fn.code);
    } catch (error) {
      failure = `Lambda could not unpack the deployment package: ${describeError(error)}`;
    }
    const current = this.#deps.store.lambdaFunctions.get(fn.name);
    // An update that came in meanwhile (other code, or the function deleted) is the next pass's to apply.
    if (!current || current.code.digest !== fn.code.digest) return;
    this.#deps.store.lambdaFunctions.modify(fn.name, (record) =>
      observe(record, failure === undefined ? { kind: 'code-ready' } : { kind: 'code-failed', reasonCode: 'InvalidZipFileException', reason: failure }),
    );
  }

  #provision(fn: LambdaFunction, nowMs: number): void {
    for (const [qualifier, config] of Object.entries(fn.provisionedConcurrency)) {
      const provisionedFor = `${fn.name}:${qualifier}`;
      let target: EnvironmentTarget;
      try {
        const resolved = this.#functions.resolve(fn.name, qualifier);
        target = sandboxTarget(fn.name, resolved.version, resolved.settings);
      } catch {
        continue;
      }
      const planKey = `${provisionedFor}@${config.lastModifiedMs}`;
      const observed = this.#pool.observeProvisioned(provisionedFor);
      const plan = decideProvisionedPlan(
        config.requested,
        { initialising: observed.starting, ready: observed.ready, failed: observed.failed, ...(observed.lastInitError !== undefined ? { lastInitError: observed.lastInitError } : {}) },
        this.#plans.get(planKey) ?? initialProvisionedPlanState(),
        nowMs,
      );
      this.#plans.set(planKey, plan.nextState);
      if (plan.status !== config.status || plan.allocated !== config.allocated || plan.available !== config.available || plan.statusReason !== config.statusReason) {
        this.#deps.store.lambdaFunctions.modify(fn.name, (record) => {
          const existing = record.provisionedConcurrency[qualifier];
          // A config put again meanwhile is the next pass's.
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
      if (plan.start > 0) this.#pool.startProvisioned(provisionedFor, target, plan.start, this.#kick);
      if (plan.stop > 0) this.#pool.stopProvisioned(provisionedFor, plan.stop);
    }
  }

  #isCurrent(target: EnvironmentTarget, provisionedFor: string | undefined): boolean {
    const fn = this.#deps.store.lambdaFunctions.get(target.functionName);
    if (!fn) return false;
    // A provisioned environment serves its config's qualifier: when an alias moves, it must follow.
    const qualifier = provisionedFor === undefined ? target.version : provisionedFor.slice(fn.name.length + 1);
    if (provisionedFor !== undefined && !fn.provisionedConcurrency[qualifier]) return false;
    try {
      const resolved = this.#functions.resolve(fn.name, qualifier);
      return sandboxTarget(fn.name, resolved.version, resolved.settings).key === target.key;
    } catch {
      return false;
    }
  }
}
