import type Database from 'better-sqlite3';
import type { AuditEvent } from '../../domain/iam/entities.ts';
import type { AuditLog, AuditQuery } from '../store.ts';
import { checkedAuditEvent, checkedAuditQuery } from '../audit-events.ts';
import { alreadyExists, RECORD_KINDS } from '../records.ts';
import { decodeRecord, encodeRecord } from './record-codec.ts';

/**
 * The audit trail in its own table: every request appends one row, so the
 * columns that queries filter on are real, indexed columns and the event
 * itself is the JSON record.
 */
export class SqliteAuditLog implements AuditLog {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #prune: Database.Statement<[number]>;
  /** One transaction for many events: a commit costs far more than a row. */
  readonly #insertAll: (events: AuditEvent[]) => void;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT INTO audit_events (event_id, time_ms, principal_arn, action, decision, record) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#prune = db.prepare<[number]>('DELETE FROM audit_events WHERE time_ms < ?');
    this.#insertAll = db.transaction((events: AuditEvent[]) => {
      for (const event of events) {
        try {
          this.#insert.run(event.eventId, event.timeMs, event.principalArn, event.action, event.decision, encodeRecord(event));
        } catch (error) {
          if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw alreadyExists(RECORD_KINDS.auditEvents, event.eventId);
          throw error;
        }
      }
    });
  }

  append(...events: AuditEvent[]): void {
    const checked = events.map(checkedAuditEvent);
    this.#insertAll(checked);
  }

  query(query: AuditQuery = {}): AuditEvent[] {
    const { principalArn, principalArnPrefix, action, decision, fromMs, toMs, limit } = checkedAuditQuery(query);
    const where: string[] = [];
    const values: (string | number)[] = [];
    if (principalArn !== undefined) (where.push('principal_arn = ?'), values.push(principalArn));
    if (principalArnPrefix !== undefined) (where.push('substr(principal_arn, 1, ?) = ?'), values.push(principalArnPrefix.length, principalArnPrefix));
    if (action !== undefined) (where.push('action = ?'), values.push(action));
    if (decision !== undefined) (where.push('decision = ?'), values.push(decision));
    if (fromMs !== undefined) (where.push('time_ms >= ?'), values.push(fromMs));
    if (toMs !== undefined) (where.push('time_ms < ?'), values.push(toMs));
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    // The newest `limit`, returned oldest first.
    const sql =
      limit === undefined
        ? `SELECT record FROM audit_events ${filter} ORDER BY time_ms, event_id`
        : `SELECT record FROM (SELECT record, time_ms, event_id FROM audit_events ${filter} ORDER BY time_ms DESC, event_id DESC LIMIT ${limit}) ORDER BY time_ms, event_id`;
    return (this.#db.prepare(sql).pluck().all(...values) as string[]).map((text) => decodeRecord<AuditEvent>(text));
  }

  prune(beforeMs: number): number {
    return this.#prune.run(beforeMs).changes;
  }
}
