import type Database from 'better-sqlite3';
import { DomainError } from '../../core/errors.ts';
import { type RecordKind, alreadyExists, assertKeyKept, mergePatch, notFound, recordKey } from '../records.ts';
import { decodeRecord, encodeRecord } from './record-codec.ts';

/** A column copied out of the JSON record so that queries on it can use an index. */
export interface IndexedColumn<T> {
  column: string;
  value: (record: T) => string;
}

export interface RecordTableOptions<T> {
  table: string;
  kind: RecordKind;
  /** The record field that is the primary key, and the column it is stored in. */
  keyField: keyof T & string;
  keyColumn: string;
  indexedColumns?: readonly IndexedColumn<T>[];
}

/**
 * One kind of record stored as JSON in `table`, keyed by one field. Every
 * resource kind (and access keys) is an instance of this class; the kinds
 * differ only in their options.
 */
export class SqliteRecordTable<T extends object> {
  readonly #db: Database.Database;
  readonly #options: RecordTableOptions<T>;
  readonly #columns: readonly IndexedColumn<T>[];
  readonly #insert: Database.Statement;
  readonly #selectOne: Database.Statement<[string], string>;
  readonly #selectAll: Database.Statement<[], string>;
  readonly #replace: Database.Statement;
  readonly #delete: Database.Statement<[string]>;
  readonly #selectWhere = new Map<string, Database.Statement<[string], string>>();
  readonly #modifyInTransaction: (key: string, change: (existing: T) => T) => T;
  readonly #dataVersion: Database.Statement<[], number>;
  /** Writes made through this table: SQLite's data_version counts only other connections' commits. */
  #writes = 0;

  constructor(db: Database.Database, options: RecordTableOptions<T>) {
    this.#db = db;
    this.#options = options;
    this.#columns = options.indexedColumns ?? [];
    const { table, keyColumn } = options;
    const extraColumns = this.#columns.map((c) => c.column);
    const insertColumns = [keyColumn, ...extraColumns, 'record'];
    this.#insert = db.prepare(
      `INSERT INTO ${table} (${insertColumns.join(', ')}) VALUES (${insertColumns.map(() => '?').join(', ')})`,
    );
    this.#selectOne = db.prepare<[string], string>(`SELECT record FROM ${table} WHERE ${keyColumn} = ?`).pluck();
    this.#selectAll = db.prepare<[], string>(`SELECT record FROM ${table} ORDER BY ${keyColumn}`).pluck();
    const assignments = [...extraColumns, 'record'].map((column) => `${column} = ?`);
    this.#replace = db.prepare(`UPDATE ${table} SET ${assignments.join(', ')} WHERE ${keyColumn} = ?`);
    this.#delete = db.prepare<[string]>(`DELETE FROM ${table} WHERE ${keyColumn} = ?`);
    this.#dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();

    // IMMEDIATE takes the write lock before the read. In a deferred
    // transaction a connection that read the record before another one
    // committed holds a stale snapshot, and its write fails with SQLITE_BUSY
    // at once (busy_timeout cannot help), losing the append or update.
    const modify = db.transaction((key: string, change: (existing: T) => T): T => {
      const text = this.#selectOne.get(key);
      if (text === undefined) throw notFound(options.kind, key);
      const next = change(decodeRecord<T>(text));
      assertKeyKept(options.kind, options.keyField, key, next);
      const encoded = encodeRecord(next);
      this.#replace.run(...this.#columnValues(next), encoded, key);
      return decodeRecord<T>(encoded);
    });
    this.#modifyInTransaction = (key, change) => modify.immediate(key, change);
  }

  #columnValues(record: T): string[] {
    return this.#columns.map((c) => c.value(record));
  }

  create(record: T): void {
    const key = recordKey(this.#options.kind, this.#options.keyField, record);
    try {
      this.#insert.run(key, ...this.#columnValues(record), encodeRecord(record));
      this.#writes++;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw alreadyExists(this.#options.kind, key);
      throw error;
    }
  }

  get(key: string): T | undefined {
    const text = this.#selectOne.get(key);
    return text === undefined ? undefined : decodeRecord<T>(text);
  }

  /** All records, ordered by key. */
  list(): T[] {
    return this.#selectAll.all().map((text) => decodeRecord<T>(text));
  }

  /** Records whose indexed `column` holds one of `values`, ordered by key. */
  listWhere(column: string, values: readonly string[]): T[] {
    let statement = this.#selectWhere.get(column);
    if (statement === undefined) {
      if (!this.#columns.some((c) => c.column === column)) {
        throw new DomainError('Internal', `${this.#options.table}.${column} is not an indexed column`);
      }
      // One statement for any number of values: the list travels as a JSON array.
      statement = this.#db
        .prepare<[string], string>(
          `SELECT record FROM ${this.#options.table} WHERE ${column} IN (SELECT value FROM json_each(?)) ORDER BY ${this.#options.keyColumn}`,
        )
        .pluck();
      this.#selectWhere.set(column, statement);
    }
    return statement.all(JSON.stringify(values)).map((text) => decodeRecord<T>(text));
  }

  /** Replaces the record with `change(existing)`, read and written in one write transaction. */
  modify(key: string, change: (existing: T) => T): T {
    // Counted once the change is committed: a reader inside `change` must not cache the old record under the new revision.
    const changed = this.#modifyInTransaction(key, change);
    this.#writes++;
    return changed;
  }

  update(key: string, patch: Partial<T>): T {
    return this.modify(key, (existing) => mergePatch(this.#options.kind, this.#options.keyField, existing, patch));
  }

  delete(key: string): boolean {
    const deleted = this.#delete.run(key).changes > 0;
    this.#writes++;
    return deleted;
  }

  revision(): string {
    return `${this.#dataVersion.get()}.${this.#writes}`;
  }
}
