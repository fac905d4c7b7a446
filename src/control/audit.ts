import { randomUUID } from 'node:crypto';
import { isDomainError } from '../core/errors.ts';
import { DEFAULT_REGION } from '../domain/iam/arn.ts';
import type { AuditEvent } from '../domain/iam/entities.ts';
import type { AuditQuery } from '../store/store.ts';
import type { ControlDeps } from './deps.ts';

/** CloudTrail's event history keeps 90 days; so does Kennel's trail. */
export const AUDIT_RETENTION_MS = 90 * 24 * 3600 * 1000;

/** How often recording also drops events past the retention window. */
const PRUNE_INTERVAL_MS = 24 * 3600 * 1000;

/** GetAccessKeyLastUsed is as fresh as this: writing the key's record on every request would cost more than it tells. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * CloudTrail's data events: the operations on a resource's contents rather than
 * on the resource (Lambda Invoke, S3 object reads and writes, SageMaker
 * InvokeEndpoint), each called far more often than anything else.
 */
const DATA_EVENT_ACTIONS: ReadonlySet<string> = new Set(['lambda:InvokeFunction', 'sagemaker:InvokeEndpoint', 's3:GetObject', 's3:PutObject', 's3:DeleteObject']);

/** Data events wait at most this long to be written, so that a busy function commits a batch rather than a row per call. */
export const DATA_EVENT_FLUSH_MS = 200;
/** Past this many waiting data events, they are written at once. */
const MAX_WAITING_EVENTS = 1000;

/**
 * The audit trail: one event per request. A management event (anything that
 * is not a data event) is written before the response goes out, together with
 * any data events waiting: a caller that got its answer finds the event there,
 * even if the server is killed right after. Data events wait, in one
 * transaction per batch, at most DATA_EVENT_FLUSH_MS, and anything that reads
 * the trail writes them first: a commit per Invoke cost about 0.1 ms of a warm
 * invocation's path (bench/functions). A server killed with -9 loses the data
 * events of its last moments, as CloudTrail delivers data events late rather
 * than with the call.
 *
 * A failed write is logged and the requests go on: losing the service because
 * its disk is full would be worse than missing events.
 */
export class AuditTrail {
  readonly #deps: ControlDeps;
  readonly #lastUsedWrittenAt = new Map<string, number>();
  #prunedAtMs = Number.NEGATIVE_INFINITY;
  #pending: AuditEvent[] = [];
  #deadline: NodeJS.Timeout | undefined;

  constructor(deps: ControlDeps) {
    this.#deps = deps;
  }

  record(event: Omit<AuditEvent, 'eventId'>): void {
    this.#pending.push({ eventId: randomUUID(), ...event });
    if (!DATA_EVENT_ACTIONS.has(event.action) || this.#pending.length >= MAX_WAITING_EVENTS) {
      this.flush();
    } else if (this.#deadline === undefined) {
      this.#deadline = setTimeout(() => this.flush(), DATA_EVENT_FLUSH_MS);
      // Waiting events do not keep a process alive; closing the server writes them.
      this.#deadline.unref();
    }
  }

  /** Writes the events recorded and not yet written. */
  flush(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    let written = events;
    try {
      this.#deps.store.auditEvents.append(...events);
    } catch (error) {
      if (!isDomainError(error)) {
        // The store cannot be written (full disk, locked file): one attempt per event would only wait as long again.
        this.#deps.logger.error('could not record audit events', { count: events.length, error: (error as Error).message });
        return;
      }
      // All or none: one event the store refuses must not take the others with it.
      written = events.filter((event) => this.#appendOne(event));
    }
    for (const event of written) this.#afterWrite(event);
  }

  #appendOne(event: AuditEvent): boolean {
    try {
      this.#deps.store.auditEvents.append(event);
      return true;
    } catch (error) {
      this.#deps.logger.error('could not record an audit event', { action: event.action, requestId: event.requestId, error: (error as Error).message });
      return false;
    }
  }

  #afterWrite(event: AuditEvent): void {
    try {
      if (event.timeMs - this.#prunedAtMs >= PRUNE_INTERVAL_MS) this.prune(event.timeMs);
      if (event.accessKeyId !== undefined && event.principalArn !== '') this.#noteKeyUse(event.accessKeyId, event.action, event.timeMs);
    } catch (error) {
      this.#deps.logger.error('could not prune the audit trail or note a key’s use', { action: event.action, requestId: event.requestId, error: (error as Error).message });
    }
  }

  #noteKeyUse(accessKeyId: string, action: string, timeMs: number): void {
    const written = this.#lastUsedWrittenAt.get(accessKeyId);
    if (written !== undefined && timeMs - written < LAST_USED_RESOLUTION_MS) return;
    const key = this.#deps.store.accessKeys.get(accessKeyId);
    if (!key) return;
    this.#lastUsedWrittenAt.set(accessKeyId, timeMs);
    const serviceName = action.includes(':') ? action.slice(0, action.indexOf(':')) : 'N/A';
    this.#deps.store.accessKeys.update(accessKeyId, { lastUsed: { timeMs, serviceName, region: DEFAULT_REGION } });
  }

  query(query: AuditQuery = {}): AuditEvent[] {
    this.flush();
    return this.#deps.store.auditEvents.query(query);
  }

  /** Drops events past the retention window; returns how many went. */
  prune(nowMs: number): number {
    this.#prunedAtMs = nowMs;
    return this.#deps.store.auditEvents.prune(nowMs - AUDIT_RETENTION_MS);
  }
}
