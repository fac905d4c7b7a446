import { randomUUID } from 'node:crypto';
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
 * The audit trail: one event per request, written before the response is
 * complete. A failed write is logged and the request goes on: losing the
 * service because its disk is full would be worse than one missing event.
 */
export class AuditTrail {
  readonly #deps: ControlDeps;
  readonly #lastUsedWrittenAt = new Map<string, number>();
  #prunedAtMs = Number.NEGATIVE_INFINITY;

  constructor(deps: ControlDeps) {
    this.#deps = deps;
  }

  record(event: Omit<AuditEvent, 'eventId'>): void {
    try {
      this.#deps.store.auditEvents.append({ eventId: randomUUID(), ...event });
      if (event.timeMs - this.#prunedAtMs >= PRUNE_INTERVAL_MS) this.prune(event.timeMs);
      if (event.accessKeyId !== undefined && event.principalArn !== '') this.#noteKeyUse(event.accessKeyId, event.action, event.timeMs);
    } catch (error) {
      this.#deps.logger.error('could not record an audit event', { action: event.action, requestId: event.requestId, error: (error as Error).message });
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
    return this.#deps.store.auditEvents.query(query);
  }

  /** Drops events past the retention window; returns how many went. */
  prune(nowMs: number): number {
    this.#prunedAtMs = nowMs;
    return this.#deps.store.auditEvents.prune(nowMs - AUDIT_RETENTION_MS);
  }
}
