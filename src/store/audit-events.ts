import { DomainError } from '../core/errors.ts';
import type { AuditEvent } from '../domain/iam/entities.ts';
import type { AuditQuery } from './store.ts';

/** Checks every AuditLog implementation shares, so they accept and refuse the same events and queries. */

const DECISIONS = new Set(['Allow', 'ExplicitDeny', 'ImplicitDeny']);

export function checkedAuditEvent(event: AuditEvent): AuditEvent {
  const problem =
    typeof event.eventId !== 'string' || event.eventId === ''
      ? 'eventId must be a non-empty string'
      : !Number.isSafeInteger(event.timeMs)
        ? 'timeMs must be whole milliseconds'
        : !DECISIONS.has(event.decision)
          ? `decision ${JSON.stringify(event.decision)} is not Allow, ExplicitDeny or ImplicitDeny`
          : typeof event.action !== 'string' || typeof event.principalArn !== 'string'
            ? 'action and principalArn must be strings'
            : undefined;
  if (problem) throw new DomainError('ValidationError', `Audit event is invalid: ${problem}`, { field: 'auditEvent' });
  return event;
}

export function checkedAuditQuery(query: AuditQuery): AuditQuery {
  if (query.limit !== undefined && (!Number.isSafeInteger(query.limit) || query.limit < 0)) {
    throw new DomainError('ValidationError', `Audit query limit ${query.limit} is invalid: expected a whole number of events, 0 or more`, { field: 'limit' });
  }
  return query;
}

/** The order AuditLog.query returns: by time, then by id. */
export function compareAuditEvents(a: AuditEvent, b: AuditEvent): number {
  return a.timeMs - b.timeMs || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}
