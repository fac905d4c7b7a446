import { type Stats, closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { DomainError, describeError } from '../../core/errors.ts';
import { KENNEL_APPLICATION_ID, assertKnownSchemaVersion, migrate, schemaVersion } from './schema.ts';

/** Every SQLite 3 database file starts with these 16 bytes. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** How long a statement waits for another connection's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * SQLite keeps the WAL file at its high-water mark after a checkpoint; one
 * putMany of a training set's embeddings writes ~55 MB, so cap what is kept.
 */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

function notKennelDatabase(file: string, why: string): DomainError {
  return new DomainError(
    'ValidationError',
    `${file} is not a Kennel state database (${why}). Kennel left it untouched: move it away, or set KENNEL_HOME to another folder.`,
    { file },
  );
}

function cannotOpen(file: string, error: unknown): DomainError {
  return new DomainError('ValidationError', `Cannot open Kennel state database ${file}: ${describeError(error)}`, { file });
}

/**
 * Refuses, before SQLite touches it, anything at `file` that is not a SQLite
 * database. A missing file is created empty with mode 0600: the database
 * holds secret access keys, and SQLite gives its -wal and -shm files the main
 * file's permissions.
 */
function prepareDatabaseFile(file: string): void {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotOpen(file, error);
    try {
      closeSync(openSync(file, 'wx', 0o600));
    } catch (createError) {
      // Another process creating it at the same moment is fine.
      if ((createError as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotOpen(file, createError);
    }
    return;
  }
  if (!stats.isFile()) throw notKennelDatabase(file, 'it is not a regular file');
  // An empty file is what SQLite itself treats as a new, empty database.
  if (stats.size === 0) return;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER)) throw notKennelDatabase(file, 'it is not a SQLite database');
}

/** Reads only: a foreign or damaged file must be refused before anything is written to it. */
function assertKennelIdentity(db: Database.Database, file: string): void {
  let applicationId: number;
  let objectCount: number;
  try {
    applicationId = db.pragma('application_id', { simple: true }) as number;
    objectCount = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() as number;
  } catch (error) {
    throw notKennelDatabase(file, `SQLite cannot read it: ${describeError(error)}`);
  }
  const isNewDatabase = applicationId === 0 && objectCount === 0;
  if (applicationId !== KENNEL_APPLICATION_ID && !isNewDatabase) {
    throw notKennelDatabase(file, 'it is a SQLite database that belongs to another program');
  }
  assertKnownSchemaVersion(schemaVersion(db), file);
}

/**
 * Opens (creating if missing) the state database at `file`, checks that it is
 * Kennel's, sets the connection up and migrates the schema.
 */
export function openKennelDatabase(file: string): Database.Database {
  prepareDatabaseFile(file);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw cannotOpen(file, error);
  }
  try {
    assertKennelIdentity(db, file);
    // WAL: readers never block the writer, and a commit is one append to the log.
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL syncs the log at checkpoints rather than at every
    // commit. A killed process loses nothing (committed pages are in the OS
    // page cache) and the file is never corrupted; only an OS crash or power
    // loss can lose the last few commits, each one whole, never half of one.
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    migrate(db, file);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
