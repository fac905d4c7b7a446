import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DomainError } from '../core/errors.ts';

export interface StateLock {
  release(): void;
}

/**
 * One server per state folder: two would run the same training jobs twice and
 * fight over endpoints.
 *
 * The lock is SQLite's exclusive lock on `kennel.lock`, which is a POSIX record
 * lock: the kernel drops it when its holder exits, kill -9 included, before the
 * process is even a zombie. A pid that merely looks alive (an unreaped zombie,
 * a reused pid) can therefore never keep the folder locked. The holder's pid is
 * written to `kennel.pid` for the error message only.
 *
 * The lock lasts until release() or the end of the process. Keep the returned
 * object referenced: a garbage-collected connection closes and frees the lock.
 */
export function acquireStateLock(home: string): StateLock {
  const file = join(home, 'kennel.lock');
  const pidFile = join(home, 'kennel.pid');
  let db = lockDatabase(file);
  if (db === 'not-a-database') {
    // A pid-text lock from an older Kennel. If its pid is alive, that Kennel may be
    // running: refuse, as it would. Otherwise nobody holds a SQLite lock on a file
    // that is not a database: it is emptied in place (an empty file is a valid
    // database) rather than deleted, so a process racing us to take it over locks
    // the same file and exactly one of us wins.
    const olderOwner = readOwner(file);
    if (olderOwner !== undefined && olderOwner !== process.pid && isAlive(olderOwner)) throw alreadyRunning(home, olderOwner);
    truncateSync(file, 0);
    db = lockDatabase(file);
  }
  if (db === 'busy') throw alreadyRunning(home, readOwner(pidFile));
  if (db === 'not-a-database') {
    throw new DomainError(
      'Conflict',
      `${file} is not a Kennel lock and something keeps rewriting it: if no Kennel is running on ${home}, remove it and start again`,
    );
  }
  const locked = db;
  try {
    writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  } catch (error) {
    locked.close();
    throw error;
  }
  let held = true;
  return {
    release: () => {
      if (!held) return;
      held = false;
      // While still holding the lock: afterwards the pid file may be the next owner's.
      rmSync(pidFile, { force: true });
      locked.close();
    },
  };
}

/**
 * Opens `file` as a database and takes its exclusive lock without waiting. The
 * connection holds the lock until it is closed.
 */
function lockDatabase(file: string): Database.Database | 'busy' | 'not-a-database' {
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // Nothing is ever written, and a journal in memory leaves no -journal file behind.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (error) {
    db.close();
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY') return 'busy';
    if (code === 'SQLITE_NOTADB') return 'not-a-database';
    throw error;
  }
}

function alreadyRunning(home: string, owner: number | undefined): DomainError {
  return new DomainError(
    'Conflict',
    `Kennel is already running on ${home}${owner === undefined ? '' : ` (pid ${owner})`}; stop it first or use another KENNEL_HOME`,
  );
}

/** Only for a lock file of an older Kennel, which recorded nothing better than a pid. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
