import type Database from 'better-sqlite3';
import { checkedListArguments, checkedObject } from '../object-records.ts';
import type { ObjectTable, StoredObject } from '../store.ts';

interface ObjectRow {
  bucket: string;
  object_key: string;
  digest: string;
  size_bytes: number;
  last_modified_ms: number;
  content_type: string | null;
}

interface ListParameters {
  bucket: string;
  prefix: string;
  after: string | null;
  upper?: string;
  limit: number;
}

function fromRow(row: ObjectRow): StoredObject {
  const object: StoredObject = {
    bucket: row.bucket,
    key: row.object_key,
    digest: row.digest,
    sizeBytes: row.size_bytes,
    lastModifiedMs: row.last_modified_ms,
  };
  if (row.content_type !== null) object.contentType = row.content_type;
  return object;
}

/**
 * The smallest string above every string that starts with `prefix`, in code
 * point order (the order of UTF-8 bytes, SQLite's BINARY collation), or
 * undefined when there is none. `key >= prefix AND key < bound` is then a
 * prefix match that treats every character literally, unlike LIKE, and that
 * SQLite answers as one range scan of the primary key.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = Array.from(prefix, (character) => character.codePointAt(0)!);
  while (codePoints.length > 0) {
    const last = codePoints.pop()!;
    if (last === 0x10ffff) continue;
    // No character lies in the surrogate range, so the next one after U+D7FF is U+E000.
    codePoints.push(last === 0xd7ff ? 0xe000 : last + 1);
    return String.fromCodePoint(...codePoints);
  }
  return undefined;
}

const COLUMNS = 'bucket, object_key, digest, size_bytes, last_modified_ms, content_type';

/**
 * The listing query, with an upper bound on the key or running to the end of
 * the bucket. max() folds startAfter into the lower bound, so a page deep into
 * a bucket starts its scan where the last page ended.
 */
export function listObjectsSql(bounded: boolean): string {
  return (
    `SELECT ${COLUMNS} FROM objects WHERE bucket = @bucket ` +
    'AND object_key >= max(@prefix, coalesce(@after, @prefix)) AND object_key IS NOT @after ' +
    `${bounded ? 'AND object_key < @upper ' : ''}ORDER BY object_key LIMIT @limit`
  );
}

/** Object metadata in the `objects` table; the content is in the artifact store. */
export class SqliteObjectTable implements ObjectTable {
  readonly #upsert: Database.Statement<[ObjectRow]>;
  readonly #selectOne: Database.Statement<[string, string], ObjectRow>;
  readonly #listBounded: Database.Statement<[ListParameters], ObjectRow>;
  readonly #listToEnd: Database.Statement<[ListParameters], ObjectRow>;
  readonly #delete: Database.Statement<[string, string]>;

  constructor(db: Database.Database) {
    this.#upsert = db.prepare<[ObjectRow]>(
      `INSERT INTO objects (${COLUMNS}) VALUES (@bucket, @object_key, @digest, @size_bytes, @last_modified_ms, @content_type) ` +
        'ON CONFLICT (bucket, object_key) DO UPDATE SET digest = excluded.digest, size_bytes = excluded.size_bytes, ' +
        'last_modified_ms = excluded.last_modified_ms, content_type = excluded.content_type',
    );
    this.#selectOne = db.prepare<[string, string], ObjectRow>(`SELECT ${COLUMNS} FROM objects WHERE bucket = ? AND object_key = ?`);
    this.#listBounded = db.prepare<[ListParameters], ObjectRow>(listObjectsSql(true));
    this.#listToEnd = db.prepare<[ListParameters], ObjectRow>(listObjectsSql(false));
    this.#delete = db.prepare<[string, string]>('DELETE FROM objects WHERE bucket = ? AND object_key = ?');
  }

  put(object: StoredObject): void {
    const checked = checkedObject(object);
    this.#upsert.run({
      bucket: checked.bucket,
      object_key: checked.key,
      digest: checked.digest,
      size_bytes: checked.sizeBytes,
      last_modified_ms: checked.lastModifiedMs,
      content_type: checked.contentType ?? null,
    });
  }

  get(bucket: string, key: string): StoredObject | undefined {
    const row = this.#selectOne.get(bucket, key);
    return row === undefined ? undefined : fromRow(row);
  }

  list(bucket: string, prefix: string, options: { startAfter?: string; limit?: number } = {}): StoredObject[] {
    const { startAfter, limit } = checkedListArguments(prefix, options);
    const upper = prefixUpperBound(prefix);
    // LIMIT -1 is SQLite's "no limit".
    const parameters: ListParameters = { bucket, prefix, after: startAfter ?? null, limit: limit ?? -1 };
    const rows = upper === undefined ? this.#listToEnd.all(parameters) : this.#listBounded.all({ ...parameters, upper });
    return rows.map(fromRow);
  }

  delete(bucket: string, key: string): boolean {
    return this.#delete.run(bucket, key).changes > 0;
  }
}
