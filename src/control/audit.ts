import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '../domain/iam/entities.ts';
import type { AuditQuery } from '../store/store.ts';
import type { ControlDeps } from './deps.ts';

/** CloudTrail's event history keeps 90 days; so does Kennel's trail. */
export const AUDIT_RETENTION_MS = 90 * 24 * 3600 * 1000;

/**
 * The audit trail: one event per request, written before the response is
 * complete. A failed write is logged and the request goes on: losing the
 * service because its disk is full would be worse than one missing event.
 */
export class AuditTrail {
  readonly #deps: ControlDeps;

  constructor(deps: ControlDeps) {
    this.#deps = deps;
  }

  record(event: Omit<AuditEvent, 'eventId'>): void {
    try {
      this.#deps.store.auditEvents.append({ eventId: randomUUID(), ...event });
    } catch (error) {
      this.#deps.logger.error('could not record an audit event', { action: event.action, requestId: event.requestId, error: (error as Error).message });
    }
  }

  query(query: AuditQuery = {}): AuditEvent[] {
    return this.#deps.store.auditEvents.query(query);
  }

  /** Drops events past the retention window; returns how many went. */
  prune(nowMs: number): number {
    return this.#deps.store.auditEvents.prune(nowMs - AUDIT_RETENTION_MS);
  }
}
