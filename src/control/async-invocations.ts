import { randomUUID } from 'node:crypto';
import { DomainError, describeError } from '../core/errors.ts';
import type { AsyncEvent, EventInvokeConfig } from '../domain/functions/function.ts';
import { decideAsyncAttempt, destinationRecord, DEFAULT_EVENT_INVOKE_CONFIG, type AsyncAttemptOutcome } from '../domain/functions/async-retry.ts';
import { functionArn } from '../domain/functions/function-names.ts';
import type { ControlDeps } from './deps.ts';
import type { FunctionInvoker, InvokeResult } from './function-invoker.ts';
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
  readonly #kick: () => void;
  readonly #random: () => number;
  /** Events being attempted in this process, so a pass never starts one twice. */
  readonly #running = new Map<string, Promise<void>>();
  #wakeUp: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: ControlDeps, functions: FunctionService, invoker: FunctionInvoker, kick: () => void, random: () => number = Math.random) {
    this.#deps = deps;
    this.#functions = functions;
    this.#invoker = invoker;
    this.#kick = kick;
    this.#random = random;
  }

  /** Accepts an Event invocation: it is stored (and so survives a crash) before this returns its request id. */
  enqueue(nameOrArn: string, qualifier: string | undefined, payload: Buffer, requestId: string = randomUUID()): string {
    if (payload.byteLength > ASYNC_MAX_BYTES) {
      throw new DomainError('PayloadTooLarge', `Request must be smaller than ${ASYNC_MAX_BYTES} bytes for the InvokeAsync operation`, { lambdaError: 'RequestTooLargeException' });
    }
    const { fn } = this.#invoker.target(nameOrArn, qualifier);
    const now = this.#deps.clock.now();
    this.#deps.store.asyncEvents.create({
      requestId,
      functionName: fn.name,
      ...(qualifier !== undefined ? { qualifier } : {}),
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

  /** Queues failed events again as new deliveries (same request ids, attempts and age reset); all of the function's when no ids are given. */
  redrive(functionName: string, requestIds?: readonly string[]): string[] {
    const wanted = requestIds === undefined ? undefined : new Set(requestIds);
    const now = this.#deps.clock.now();
    const redriven: string[] = [];
    for (const event of this.deadLetters(functionName)) {
      if (wanted && !wanted.has(event.requestId)) continue;
      this.#deps.store.asyncEvents.modify(event.requestId, ({ lastError: _e, failedCondition: _c, failedAtMs: _f, ...rest }) => ({
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
      const attempt = this.#attempt(event).finally(() => this.#running.delete(event.requestId));
      this.#running.set(event.requestId, attempt);
    }
    this.#scheduleWakeUp(nextDueMs, nowMs);
  }

  async settled(): Promise<void> {
    await Promise.all([...this.#running.values()]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#wakeUp) clearTimeout(this.#wakeUp);
    await this.settled();
  }

  async #attempt(event: AsyncEvent): Promise<void> {
    const config = this.#config(event);
    let outcome: AsyncAttemptOutcome;
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
      outcome = error instanceof DomainError && error.details.lambdaError === 'TooManyRequestsException' ? 'throttled' : 'system-error';
      if (outcome === 'system-error') this.#deps.logger.warn('async invocation could not run', { requestId: event.requestId, error: describeError(error) });
    }
    if (this.#closed) return;
    const now = this.#deps.clock.now();
    const decision = decideAsyncAttempt(event, outcome, config, now, this.#deps.functions.asyncTiming, this.#random());
    const lastError = result?.functionError ? errorOf(result) : undefined;
    if (decision.kind === 'retry') {
      this.#deps.store.asyncEvents.update(event.requestId, { attempts: decision.attempts, nextAttemptAtMs: decision.atMs, ...(lastError ? { lastError } : {}) });
      this.#kick();
      return;
    }
    const destination = decision.kind === 'done' ? config.onSuccess : config.onFailure;
    if (destination !== undefined) {
      const record = destinationRecord({
        requestId: event.requestId,
        functionArn: functionArn(event.functionName, LAMBDA_SCOPE, event.qualifier ?? '$LATEST'),
        condition: decision.kind === 'done' ? 'Success' : decision.condition,
        approximateInvokeCount: decision.attempts,
        timestampMs: now,
        requestPayload: Buffer.from(event.payload, 'base64'),
        executedVersion: result?.executedVersion,
        functionError: result?.functionError,
        responsePayload: result?.payload,
      });
      try {
        this.enqueue(destination, undefined, Buffer.from(JSON.stringify(record)));
      } catch (error) {
        this.#deps.logger.warn('async destination refused the record', { requestId: event.requestId, destination, error: describeError(error) });
      }
    }
    if (decision.kind === 'done' || destination !== undefined) {
      this.#deps.store.asyncEvents.delete(event.requestId);
    } else {
      this.#deps.store.asyncEvents.update(event.requestId, {
        status: 'failed',
        attempts: decision.attempts,
        failedCondition: decision.condition,
        failedAtMs: now,
        ...(lastError ? { lastError } : {}),
      });
    }
  }

  #config(event: AsyncEvent): Required<Pick<EventInvokeConfig, 'maximumRetryAttempts' | 'maximumEventAgeSeconds'>> & Pick<EventInvokeConfig, 'onSuccess' | 'onFailure'> {
    const fn = this.#deps.store.lambdaFunctions.get(event.functionName);
    const own = fn?.eventInvokeConfigs[event.qualifier ?? '$LATEST'];
    return { ...DEFAULT_EVENT_INVOKE_CONFIG, ...own };
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
