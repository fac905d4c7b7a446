import { randomUUID } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import { pickAliasVersion } from '../domain/functions/alias-routing.ts';
import { decideAdmission } from '../domain/functions/concurrency.ts';
import { functionArn, parseFunctionName } from '../domain/functions/function-names.ts';
import { canInvoke } from '../domain/functions/function-state.ts';
import { logTail } from '../runtime/functions/log-tail.ts';
import type { InvocationOutcome } from '../runtime/functions/types.ts';
import type { ControlDeps } from './deps.ts';
import type { FunctionConcurrencyService } from './function-concurrency.ts';
import type { EnvironmentPool } from './function-environments.ts';
import type { FunctionMetrics } from './function-metrics.ts';
import { sandboxTarget } from './function-sandboxes.ts';
import { LAMBDA_SCOPE, stateFieldsOf, type FunctionService, type ResolvedFunction } from './functions.ts';

export interface InvokeRequest {
  payload: Buffer;
  /** X-Amz-Log-Type: Tail. */
  tailLogs: boolean;
  clientContext?: string;
  /** An async event keeps the request id it was accepted with, so handlers can tell a retry from a new event. */
  requestId?: string;
}

export interface InvokeResult {
  requestId: string;
  payload: Buffer;
  /** X-Amz-Function-Error. */
  functionError?: string;
  errorType?: string;
  /** X-Amz-Log-Result: the log's last 4 KB, base64. */
  logResult?: string;
  /** X-Amz-Executed-Version. */
  executedVersion: string;
}

/** Lambda's TooManyRequestsException, with the throttle's Reason and Retry-After; `reservedZero` says the function may never run (async events then skip their retries). */
export function throttled(reason: string, message: string, retryAfterSeconds: number, reservedZero = false): DomainError {
  return new DomainError('LimitExceeded', message, { lambdaError: 'TooManyRequestsException', reason, retryAfterSeconds, reservedZero });
}

/**
 * Runs invocations: resolves the qualifier (an alias picks a version by its
 * weights), admits the invocation under the account's, the function's reserved
 * and provisioned concurrency, runs it in an execution environment, and
 * records the metrics. Refusals are answered at once with a throttle; nothing
 * queues here.
 */
export class FunctionInvoker {
  readonly #deps: ControlDeps;
  readonly #functions: FunctionService;
  readonly #concurrency: FunctionConcurrencyService;
  readonly #pool: EnvironmentPool;
  readonly #metrics: FunctionMetrics;
  readonly #random: () => number;
  /** Invocations admitted and not yet finished, per function: what the limiter decides on. */
  readonly #inFlight = new Map<string, number>();
  /** Of those, the ones running on provisioned environments. */
  readonly #provisionedBusy = new Map<string, number>();

  constructor(deps: ControlDeps, functions: FunctionService, concurrency: FunctionConcurrencyService, pool: EnvironmentPool, metrics: FunctionMetrics, random: () => number = Math.random) {
    this.#deps = deps;
    this.#functions = functions;
    this.#concurrency = concurrency;
    this.#pool = pool;
    this.#metrics = metrics;
    this.#random = random;
  }

  /** What Invoke with that name and qualifier would run, refused as Invoke would refuse it: what DryRun checks. */
  target(nameOrArn: string, qualifier?: string): ResolvedFunction {
    const resolved = this.#functions.resolve(nameOrArn, qualifier);
    canInvoke(stateFieldsOf(resolved.fn));
    return resolved;
  }

  /** Invocations running now, per function: CloudWatch's ConcurrentExecutions. */
  inFlightByFunction(): Map<string, number> {
    return new Map(this.#inFlight);
  }

  async invoke(nameOrArn: string, given: string | undefined, request: InvokeRequest): Promise<InvokeResult> {
    const resolved = this.target(nameOrArn, given);
    const { fn } = resolved;
    // The qualifier may come in the name (`my-function:live`, or a qualified ARN) as well as in Qualifier.
    const qualifier = parseFunctionName(nameOrArn, given, LAMBDA_SCOPE).qualifier;
    const requestId = request.requestId ?? randomUUID();
    let { version, settings } = resolved;
    if (resolved.alias?.additionalVersionWeights) {
      version = pickAliasVersion({ functionVersion: resolved.alias.functionVersion, additionalVersionWeights: resolved.alias.additionalVersionWeights }, this.#random());
      if (version !== resolved.version) settings = this.#functions.resolve(fn.name, version).settings;
    }
    const target = sandboxTarget(fn.name, version, settings);
    // Provisioned concurrency belongs to the qualifier it was configured on: a version, or an alias.
    const provisionedFor = qualifier !== undefined && fn.provisionedConcurrency[qualifier] ? `${fn.name}:${qualifier}` : undefined;
    const idleProvisioned = provisionedFor === undefined ? 0 : this.#pool.idleProvisioned(target, provisionedFor);
    const account = this.#concurrency.account();
    const admission = decideAdmission({ ...account, inFlight: this.#inFlight, provisionedBusy: this.#provisionedBusy }, this.#deps.functions.concurrency, fn.name, { idleProvisioned });
    if (!admission.admit) {
      this.#metrics.record({ functionName: fn.name, atMs: this.#deps.clock.now(), outcome: 'throttled' });
      throw throttled(admission.reason, admission.message, admission.retryAfterSeconds, account.reserved.get(fn.name) === 0);
    }
    // Nothing is awaited between the decision and taking the environment, so no other invocation can take it first.
    const warm = this.#pool.takeWarm(target, provisionedFor);
    const onProvisioned = warm?.provisioned === true;
    const spillover = provisionedFor !== undefined && !onProvisioned;
    count(this.#inFlight, fn.name, +1);
    if (onProvisioned) count(this.#provisionedBusy, fn.name, +1);
    try {
      const startedAtMs = this.#deps.clock.now();
      const lease = warm ?? (await this.#pool.startCold(target));
      if (!('invoke' in lease)) {
        this.#metrics.record({ functionName: fn.name, atMs: this.#deps.clock.now(), outcome: 'error', cold: true, durationMs: this.#deps.clock.now() - startedAtMs, spillover });
        return {
          requestId,
          payload: lease.payload,
          functionError: 'Unhandled',
          errorType: lease.errorType,
          executedVersion: version,
          ...(request.tailLogs ? { logResult: logTail(lease.logs) } : {}),
        };
      }
      const outcome: InvocationOutcome = await lease.invoke({
        requestId,
        payload: request.payload,
        invokedFunctionArn: functionArn(fn.name, LAMBDA_SCOPE, qualifier),
        ...(request.clientContext !== undefined ? { clientContext: request.clientContext } : {}),
      });
      this.#metrics.record({
        functionName: fn.name,
        atMs: this.#deps.clock.now(),
        outcome: outcome.functionError ? 'error' : 'ok',
        durationMs: outcome.durationMs,
        cold: lease.cold,
        spillover,
      });
      return {
        requestId,
        payload: outcome.payload,
        ...(outcome.functionError ? { functionError: outcome.functionError } : {}),
        ...(outcome.errorType ? { errorType: outcome.errorType } : {}),
        executedVersion: version,
        ...(request.tailLogs ? { logResult: logTail(outcome.logs) } : {}),
      };
    } finally {
      count(this.#inFlight, fn.name, -1);
      if (onProvisioned) count(this.#provisionedBusy, fn.name, -1);
    }
  }
}

function count(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}
