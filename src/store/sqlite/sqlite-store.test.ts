import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type ErrorCode, isDomainError } from '../../core/errors.ts';
import { runStoreContract } from '../../testing/store-contract.ts';
import {
  CRASH_BATCH_SIZE,
  CRASH_EMBEDDING_KEY,
  CRASH_JOB,
  COMMITTED_BEFORE_STALL,
  STALLED_EMBEDDING_KEY,
  crashDataset,
  crashDigest,
  crashVector,
  emptyJob,
} from './crash-writer.fixture.ts';
import { float32ArrayFromBlob } from './embedding-cache.ts';
import { KENNEL_APPLICATION_ID, SCHEMA_VERSION } from './schema.ts';
import { openSqliteStore } from './sqlite-store.ts';

const FIXTURE = fileURLToPath(new URL('./crash-writer.fixture.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

runStoreContract('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kennel-store-'));
  const file = join(dir, 'kennel.db');
  return {
    store: openSqliteStore(file),
    reopen: () => openSqliteStore(file),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
});

function assertRefused(file: string, code: ErrorCode, messageParts: readonly string[]): void {
  assert.throws(
    () => openSqliteStore(file),
    (error: unknown) => {
      assert.ok(isDomainError(error), `expected a DomainError, got ${String(error)}`);
      assert.equal(error.code, code);
      for (const part of messageParts) assert.ok(error.message.includes(part), `message ${JSON.stringify(error.message)} should mention ${part}`);
      return true;
    },
  );
}

/** Runs the fixture script in a child process with tsx, as a user would run a script. */
function startFixture(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Resolves when the child prints a line satisfying `done`; rejects if it exits first. */
function waitForLine(child: ChildProcess, done: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onExit = (code: number | null) => reject(new Error(`fixture exited by itself with code ${code}`));
    child.once('exit', onExit);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      const line = lines.find(done);
      if (line !== undefined) {
        child.off('exit', onExit);
        child.stdout!.removeAllListeners('data');
        resolve(line);
      }
    });
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe('sqlite store on disk', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kennel-sqlite-'));
    file = join(dir, 'kennel.db');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a WAL-mode database marked as Kennel’s at the current schema version', () => {
    openSqliteStore(file).close();
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('application_id', { simple: true }), KENNEL_APPLICATION_ID);
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('creates the database and its WAL readable by the owner only: it holds secret keys', () => {
    const store = openSqliteStore(file);
    store.datasets.create(crashDataset(0));
    for (const path of [file, `${file}-wal`]) assert.equal(statSync(path).mode & 0o777, 0o600, path);
    store.close();
  });

  it('names the file when its folder does not exist, or when it is a folder', () => {
    assertRefused(join(dir, 'missing', 'kennel.db'), 'ValidationError', [join(dir, 'missing', 'kennel.db')]);
    assertRefused(dir, 'ValidationError', [dir, 'not a Kennel state database']);
  });

  it('changes a table’s revision when another connection to the file writes it', () => {
    const reader = openSqliteStore(file);
    const writer = openSqliteStore(file);
    try {
      const before = reader.datasets.revision();
      writer.datasets.create(crashDataset(0));
      assert.notEqual(reader.datasets.revision(), before);
      const after = reader.datasets.revision();
      assert.deepEqual(reader.datasets.list(), [crashDataset(0)]);
      assert.equal(reader.datasets.revision(), after, 'reading leaves it');
    } finally {
      writer.close();
      reader.close();
    }
  });

  it('treats an empty file as a new database', () => {
    writeFileSync(file, '');
    const store = openSqliteStore(file);
    store.datasets.create(crashDataset(0));
    store.close();
    const reopened = openSqliteStore(file);
    assert.deepEqual(reopened.datasets.list(), [crashDataset(0)]);
    reopened.close();
  });

  it('refuses a file that is not a SQLite database and leaves it untouched', () => {
    const garbage = Buffer.from('my shopping list: apples, bread, dog food\n'.repeat(200));
    writeFileSync(file, garbage);
    assertRefused(file, 'ValidationError', [file, 'not a Kennel state database']);
    assert.deepEqual(readFileSync(file), garbage);
    assert.equal(existsSync(`${file}-wal`), false);
    assert.equal(existsSync(`${file}-shm`), false);
  });

  it('refuses a file with a SQLite header but damaged pages, and leaves it untouched', () => {
    const damaged = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(8192, 0xa5)]);
    writeFileSync(file, damaged);
    assertRefused(file, 'ValidationError', [file, 'not a Kennel state database']);
    assert.deepEqual(readFileSync(file), damaged);
  });

  it('refuses another program’s SQLite database and leaves it untouched', () => {
    const other = new Database(file);
    other.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')");
    other.close();
    const before = readFileSync(file);
    assertRefused(file, 'ValidationError', [file, 'not a Kennel state database', 'another program']);
    assert.deepEqual(readFileSync(file), before);
  });

  it('refuses a database from a newer Kennel, naming both schema versions', () => {
    openSqliteStore(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assertRefused(file, 'Conflict', [file, `schema version ${SCHEMA_VERSION + 1}`, `up to ${SCHEMA_VERSION}`, 'newer Kennel']);
    const after = new Database(file, { readonly: true });
    assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
    after.close();
  });

  it('keeps only whole records when the writing process is killed with SIGKILL mid-write', async () => {
    const child = startFixture(['write', file]);
    // Kill once enough batches are in the WAL; the writer is then in the middle of its next batch.
    const line = await waitForLine(child, (l) => Number(l.replace('committed ', '')) >= 20);
    child.kill('SIGKILL');
    const committed = Number(line.replace('committed ', ''));
    const { signal } = await exited(child);
    assert.equal(signal, 'SIGKILL');

    const store = openSqliteStore(file);
    try {
      const datasets = store.datasets.list();
      assert.ok(datasets.length > committed, `every reported commit survives: ${datasets.length} datasets, ${committed + 1} reported`);
      for (const dataset of datasets) {
        const i = Number(dataset.name.replace('crash-', ''));
        assert.deepEqual(dataset, crashDataset(i));
      }

      const vectorCount = store.embeddings.count(CRASH_EMBEDDING_KEY);
      assert.equal(vectorCount % CRASH_BATCH_SIZE, 0, 'a putMany is all or nothing');
      const batches = vectorCount / CRASH_BATCH_SIZE;
      assert.ok(batches > committed);
      const digests: string[] = [];
      for (let b = 0; b < batches; b++) for (let j = 0; j < CRASH_BATCH_SIZE; j++) digests.push(crashDigest(b, j));
      const vectors = store.embeddings.getMany(CRASH_EMBEDDING_KEY, digests);
      assert.equal(vectors.size, vectorCount);
      for (let b = 0; b < batches; b++) {
        for (let j = 0; j < CRASH_BATCH_SIZE; j++) assert.deepEqual(vectors.get(crashDigest(b, j)), crashVector(b, j));
      }

      const epochs = store.trainingJobs.get(CRASH_JOB)!.epochs.map((e) => e.epoch);
      assert.ok(epochs.length > committed);
      assert.deepEqual(epochs, Array.from({ length: epochs.length }, (_, k) => k + 1));
    } finally {
      store.close();
    }

    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
  });

  it('discards a transaction killed before its commit, even with its pages already in the WAL', async () => {
    const child = startFixture(['stall', file]);
    await waitForLine(child, (l) => l === 'stalled');
    child.kill('SIGKILL');
    assert.equal((await exited(child)).signal, 'SIGKILL');
    assert.ok(statSync(`${file}-wal`).size > 4 * 1024 * 1024, 'the killed transaction had spilled pages into the WAL');

    const store = openSqliteStore(file);
    try {
      assert.equal(store.embeddings.count(STALLED_EMBEDDING_KEY), 0);
      assert.deepEqual(
        store.datasets.list(),
        Array.from({ length: COMMITTED_BEFORE_STALL }, (_, i) => crashDataset(i)),
      );
    } finally {
      store.close();
    }
  });

  it('loses no epoch when two processes append to the same job at once', async () => {
    const setup = openSqliteStore(file);
    setup.trainingJobs.create(emptyJob('shared'));
    setup.close();

    const perProcess = 150;
    const children = [startFixture(['append', file, 'shared', String(perProcess)]), startFixture(['append', file, 'shared', String(perProcess)])];
    const results = await Promise.all(children.map(exited));
    assert.deepEqual(results, [{ code: 0, signal: null }, { code: 0, signal: null }]);

    const store = openSqliteStore(file);
    try {
      const epochs = store.trainingJobs.get('shared')!.epochs;
      assert.equal(epochs.length, 2 * perProcess);
      // Each writer's epochs appear in the order it appended them (trainLoss carries the writer's pid).
      for (const pid of children.map((c) => c.pid)) {
        const own = epochs.filter((e) => e.trainLoss === pid).map((e) => e.epoch);
        assert.deepEqual(own, Array.from({ length: perProcess }, (_, k) => k + 1));
      }
    } finally {
      store.close();
    }
  });
});

describe('float32ArrayFromBlob', () => {
  const bits = [0x7fc00001, 0x80000000, 0x00000001, 0x3f800000];
  const bytes = Buffer.from(new Uint32Array(bits).buffer);

  it('copies a blob at an offset no Float32Array can view, keeping every bit', () => {
    const unaligned = Buffer.alloc(bytes.length + 1).subarray(1);
    bytes.copy(unaligned);
    const vector = float32ArrayFromBlob(unaligned, 'k', 'img');
    assert.deepEqual([...new Uint32Array(vector.buffer)], bits);
    unaligned.fill(0);
    assert.deepEqual([...new Uint32Array(vector.buffer)], bits, 'the result does not alias the blob');
  });

  it('copies a blob that shares its ArrayBuffer with other data', () => {
    const shared = Buffer.alloc(bytes.length + 8);
    bytes.copy(shared);
    const vector = float32ArrayFromBlob(shared.subarray(0, bytes.length), 'k', 'img');
    assert.equal(vector.buffer.byteLength, bytes.length);
    assert.deepEqual([...new Uint32Array(vector.buffer)], bits);
  });

  it('refuses a blob that is not a whole number of floats, as damage', () => {
    assert.throws(
      () => float32ArrayFromBlob(Buffer.alloc(7), 'k', 'img'),
      (error: unknown) => isDomainError(error) && error.code === 'Internal' && error.message.includes('damaged'),
    );
  });
});
