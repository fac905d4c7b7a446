import { randomUUID } from 'node:crypto';
import { DomainError, describeError } from '../core/errors.ts';
import type { AsyncEvent, EventInvokeConfig } from '../domain/functions/function.ts';
import { checkEventAge, decideAsyncAttempt, destinationRecord, DEFAULT_ASYNC_RETRY, type AsyncDecision, type AsyncOutcome } from '../domain/functions/async-retry.ts';
import { lambdaError } from '../domain/functions/lambda-errors.ts';
import { functionArn, parseFunctionName } from '../domain/functions/function-names.ts';
import type { ControlDeps } from './deps.ts';
import type { FunctionInvoker, InvokeResult } from './function-invoker.ts';
import type { ExecutionRoles } from './function-roles.ts';
import { LAMBDA_SCOPE, type FunctionService } from './functions.ts';
import type { Reconciler } from './reconciler.ts';

/** Lambda's limit on an Event invocation's payload. */
export const ASYNC_MAX_BYTES = 1024 * 1024;

/**
 * Event invocations: stored before Invoke answers 202, then run within the
 * function's concurrency, retried as Lambda retries them, and sent on to the
 * function's destinations, or kept as failed (the dead-letter list, which the
 * CLI lists and redrives). Delivery is at least once: an event that was running
 * when the server died runs again after the restart, with the same request id,
 * so a handler can tell.
 */
export class AsyncInvocations implements Reconciler {
  readonly name = 'async-invocations';
  readonly #deps: ControlDeps;
  readonly #functions: FunctionService;
  readonly #invoker: FunctionInvoker;
  readonly #roles: Pick<ExecutionRoles, 'mayInvoke'>;
  readonly #kick: () => void;
  readonly #random: () => number;
  /** Events being attempted in this process, so a pass never starts one twice. */
  readonly #running = new Map<string, Promise<void>>();
  #wakeUp: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: ControlDeps, functions: FunctionService, invoker: FunctionInvoker, roles: Pick<ExecutionRoles, 'mayInvoke'>, kick: () => void, random: () => number = Math.random) {
    this.#deps = deps;
    this.#functions = functions;
    this.#invoker = invoker;
    this.#roles = roles;
    this.#kick = kick;
    this.#random = random;
  }

  /** Accepts an Event invocation: it is stored (and so survives a crash) before this returns its request id. */
  enqueue(nameOrArn: string, qualifier: string | undefined, payload: Buffer, requestId: string = randomUUID()): string {
    if (payload.byteLength > ASYNC_MAX_BYTES) {
      throw lambdaError('PayloadTooLarge', 'RequestTooLargeException', `Request must be smaller than ${ASYNC_MAX_BYTES} bytes for the InvokeAsync operation`);
    }
    const { fn } = this.#invoker.target(nameOrArn, qualifier);
    // The qualifier may come in the name (`my-function:live`, or a qualified ARN) as well as in Qualifier.
    const given = parseFunctionName(nameOrArn, qualifier, LAMBDA_SCOPE).qualifier;
    const now = this.#deps.clock.now();
    this.#deps.store.asyncEvents.create({
      requestId,
      functionName: fn.name,
      ...(given !== undefined ? { qualifier: given } : {}),
      payload: payload.toString('base64'),
      enqueuedAtMs: now,
      attempts: 0,
      nextAttemptAtMs: now,
      status: 'queued',
    });
    this.#kick();
    return requestId;
  }

  /** The function's events that failed every attempt, oldest first. */
  deadLetters(functionName: string): AsyncEvent[] {
    const fn = this.#functions.get(functionName);
    return this.#deps.store.asyncEvents
      .listByStatus('failed')
      .filter((event) => event.functionName === fn.name)
      .sort((a, b) => a.enqueuedAtMs - b.enqueuedAtMs);
  }

  /** Queues failed events again as new deliveries (same request ids; attempts, throttle backoff and age reset); all of the function's when no ids are given. */
  redrive(functionName: string, requestIds?: readonly string[]): string[] {
    const wanted = requestIds === undefined ? undefined : new Set(requestIds);
    const now = this.#deps.clock.now();
    const redriven: string[] = [];
    for (const event of this.deadLetters(functionName)) {
      if (wanted && !wanted.has(event.requestId)) continue;
      this.#deps.store.asyncEvents.modify(event.requestId, ({ lastError: _e, failedCondition: _c, failedAtMs: _f, deferrals: _d, deliveryError: _x, ...rest }) => ({
        ...rest,
        status: 'queued',
        attempts: 0,
        enqueuedAtMs: now,
        nextAttemptAtMs: now,
      }));
      redriven.push(event.requestId);
    }
    if (redriven.length > 0) this.#kick();
    return redriven;
  }

  async reconcile(nowMs: number): Promise<void> {
    if (this.#closed) return;
    let nextDueMs = Number.POSITIVE_INFINITY;
    for (const event of this.#deps.store.asyncEvents.listByStatus('queued').sort((a, b) => a.nextAttemptAtMs - b.nextAttemptAtMs)) {
      if (this.#running.has(event.requestId)) continue;
      if (event.nextAttemptAtMs > nowMs) {
        nextDueMs = Math.min(nextDueMs, event.nextAttemptAtMs);
        continue;
      }
      const attempt = this.#attempt(event)
        .catch((error: unknown) => this.#deps.logger.error('async invocation attempt failed', { requestId: event.requestId, error: describeError(error) }))
        .finally(() => this.#running.delete(event.requestId));
      this.#running.set(event.requestId, attempt);
    }
    this.#scheduleWakeUp(nextDueMs, nowMs);
  }

  /** Attempts are long runs (a handler may take minutes), as training jobs are: nothing short is left to wait for. */
  async settled(): Promise<void> {}

  /** The attempts being run when this pass stopped (for tests that wait on them). */
  async attemptsSettled(): Promise<void> {
    await Promise.all([...this.#running.values()]);
  }

  /**
   * Stops taking events and forgets the outcome of attempts still running: the
   * environments are about to be closed under them, and an attempt cut short
   * by shutdown is not the function's failure. Those events stay queued with
   * their attempts as they were, and run again at the next start.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#wakeUp) clearTimeout(this.#wakeUp);
  }

  async #attempt(event: AsyncEvent): Promise<void> {
    const config = this.config(event);
    const age = checkEventAge(event, config, this.#deps.clock.now());
    if (age.kind === 'failed') return this.#finish(event, age, config, undefined);
    let outcome: AsyncOutcome;
    let result: InvokeResult | undefined;
    try {
      result = await this.#invoker.invoke(event.functionName, event.qualifier, { payload: Buffer.from(event.payload, 'base64'), tailLogs: false, requestId: event.requestId });
      outcome = result.functionError ? 'function-error' : 'success';
    } catch (error) {
      if (error instanceof DomainError && error.code === 'NotFound') {
        // The function (or its qualifier) was deleted: its events go with it, as on Lambda.
        this.#deps.store.asyncEvents.delete(event.requestId);
        return;
      }
      const throttle = error instanceof DomainError && error.details.lambdaError === 'TooManyRequestsException';
      outcome = throttle ? (error.details.reservedZero === true ? 'throttled-reserved-zero' : 'throttled') : 'system-error';
      if (outcome === 'system-error') this.#deps.logger.warn('async invocation could not run', { requestId: event.requestId, error: describeError(error) });
    }
    if (this.#closed) return;
    const decision = decideAsyncAttempt(event, outcome, config, this.#deps.clock.now(), this.#deps.functions.asyncTiming, this.#random());
    if (decision.kind === 'retry') {
      const lastError = result?.functionError ? errorOf(result) : undefined;
      this.#record(event.requestId, { attempts: decision.attempts, deferrals: decision.deferrals, nextAttemptAtMs: decision.atMs, ...(lastError ? { lastError } : {}) });
      this.#kick();
      return;
    }
    this.#finish(event, decision, config, result);
  }

  /** An event done with: sent on to its destination, or kept as failed when it has none or the record could not be sent (the destination was deleted, or the role may no longer invoke it). */
  #finish(event: AsyncEvent, decision: Exclude<AsyncDecision, { kind: 'retry' }>, config: ReturnType<AsyncInvocations['config']>, result: InvokeResult | undefined): void {
    const now = this.#deps.clock.now();
    const destination = decision.kind === 'done' ? config.onSuccess : config.onFailure;
    let deliveryError: string | undefined;
    if (destination !== undefined) {
      const record = destinationRecord({
        requestId: event.requestId,
        functionArn: functionArn(event.functionName, LAMBDA_SCOPE, result?.executedVersion ?? event.qualifier ?? '$LATEST'),
        condition: decision.kind === 'done' ? 'Success' : decision.condition,
        approximateInvokeCount: decision.attempts,
        timestampMs: now,
        requestPayload: parsedOrText(Buffer.from(event.payload, 'base64')),
        ...(result
          ? { response: { statusCode: 200, executedVersion: result.executedVersion, ...(result.functionError ? { functionError: 'Unhandled' as const } : {}), payload: parsedOrText(result.payload) } }
          : {}),
      });
      deliveryError = this.#handOn(event, result, destination, Buffer.from(JSON.stringify(record)));
      if (deliveryError !== undefined) this.#deps.logger.warn('async destination refused the record', { requestId: event.requestId, destination, error: deliveryError });
    }
    if (decision.kind === 'done' || (destination !== undefined && deliveryError === undefined)) {
      this.#deps.store.asyncEvents.delete(event.requestId);
      return;
    }
    const lastError = result?.functionError ? errorOf(result) : undefined;
    this.#record(event.requestId, {
      status: 'failed',
      attempts: decision.attempts,
      failedCondition: decision.condition,
      failedAtMs: now,
      ...(lastError ? { lastError } : {}),
      ...(deliveryError !== undefined ? { deliveryError } : {}),
    });
  }

  /**
   * Sends the record on as Lambda does, as the function's execution role (the
   * role of the version that ran): undefined once it is queued at the
   * destination, else why it could not be.
   */
  #handOn(event: AsyncEvent, result: InvokeResult | undefined, destination: string, record: Buffer): string | undefined {
    try {
      const { roleArn } = this.#functions.resolve(event.functionName, result?.executedVersion ?? event.qualifier).settings;
      const target = this.#functions.resolve(destination).fn;
      if (!this.#roles.mayInvoke(roleArn, destination, target)) return `The execution role ${roleArn} is not allowed lambda:InvokeFunction on ${destination}`;
      this.enqueue(destination, undefined, record);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Records an attempt's outcome, unless the event went meanwhile (its function was deleted, with its events). */
  #record(requestId: string, patch: Partial<AsyncEvent>): void {
    try {
      this.#deps.store.asyncEvents.update(requestId, patch);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'NotFound')) throw error;
    }
  }

  /** The event's retry settings and destinations: the qualifier's event invoke config over Lambda's defaults. */
  config(event: AsyncEvent): Required<Pick<EventInvokeConfig, 'maximumRetryAttempts' | 'maximumEventAgeSeconds'>> & Pick<EventInvokeConfig, 'onSuccess' | 'onFailure'> {
    const own = this.#deps.store.lambdaFunctions.get(event.functionName)?.eventInvokeConfigs[event.qualifier ?? '$LATEST'];
    return {
      maximumRetryAttempts: own?.maximumRetryAttempts ?? DEFAULT_ASYNC_RETRY.maximumRetryAttempts,
      maximumEventAgeSeconds: own?.maximumEventAgeSeconds ?? DEFAULT_ASYNC_RETRY.maximumEventAgeSeconds,
      ...(own?.onSuccess !== undefined ? { onSuccess: own.onSuccess } : {}),
      ...(own?.onFailure !== undefined ? { onFailure: own.onFailure } : {}),
    };
  }

  #scheduleWakeUp(dueMs: number, nowMs: number): void {
    if (this.#wakeUp) clearTimeout(this.#wakeUp);
    this.#wakeUp = undefined;
    if (!Number.isFinite(dueMs) || this.#closed) return;
    this.#wakeUp = setTimeout(() => this.#kick(), Math.max(0, dueMs - nowMs));
    this.#wakeUp.unref();
  }
}

function errorOf(result: InvokeResult): { errorType: string; errorMessage: string } {
  try {
    const body = JSON.parse(result.payload.toString('utf8')) as { errorType?: string; errorMessage?: string };
    return { errorType: body.errorType ?? result.errorType ?? 'Error', errorMessage: body.errorMessage ?? '' };
  } catch {
    return { errorType: result.errorType ?? 'Error', errorMessage: result.payload.toString('utf8').slice(0, 256) };
  }
}

/** A payload as a destination record carries it: the JSON value when it is JSON, else the text. */
function parsedOrText(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
