import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { listObjectsSql, prefixUpperBound } from './object-table.ts';
import { SCHEMA_VERSION } from './schema.ts';
import { openSqliteStore } from './sqlite-store.ts';
import { rollBackToSchemaVersion } from '../../testing/schema-rollback.ts';

/** Non-ASCII characters as \u{...}, so test names stay readable. */
function escaped(text: string | undefined): string {
  if (text === undefined) return 'undefined';
  return `"${Array.from(text, (c) => (c.codePointAt(0)! > 0x7e ? `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}` : c)).join('')}"`;
}

describe('prefixUpperBound', () => {
  const cases: [string, string | undefined][] = [
    ['', undefined],
    ['a', 'b'],
    ['data/', 'data0'],
    ['a%', 'a&'],
    ['\u{10FFFF}', undefined],
    ['\u{10FFFF}\u{10FFFF}', undefined],
    ['a\u{10FFFF}', 'b'],
    ['\uD7FF', '\uE000'],
    ['\uFFFF', '\u{10000}'],
    ['x\u{1F415}', 'x\u{1F416}'],
  ];
  for (const [prefix, bound] of cases) {
    it(`bounds ${escaped(prefix)} by ${escaped(bound)}`, () => {
      assert.equal(prefixUpperBound(prefix), bound);
    });
  }
});

describe('sqlite objects table', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kennel-objects-'));
    file = join(dir, 'kennel.db');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists with one range scan of the primary key, with and without an upper bound', () => {
    openSqliteStore(file).close();
    const db = new Database(file, { readonly: true });
    try {
      const plan = (bounded: boolean) =>
        db
          .prepare(`EXPLAIN QUERY PLAN ${listObjectsSql(bounded)}`)
          .all({ bucket: 'b', prefix: 'p', after: null, limit: -1, ...(bounded ? { upper: 'q' } : {}) })
          .map((row) => (row as { detail: string }).detail);
      assert.deepEqual(plan(true), ['SEARCH objects USING PRIMARY KEY (bucket=? AND object_key>? AND object_key<?)']);
      assert.deepEqual(plan(false), ['SEARCH objects USING PRIMARY KEY (bucket=? AND object_key>?)']);
    } finally {
      db.close();
    }
  });

  it('adds the objects table to a database made before it existed, keeping its records', () => {
    const store = openSqliteStore(file);
    store.accessKeys.create({ accessKeyId: 'KEY1', sealedSecret: 'v1:sealed', status: 'Active', userName: 'admin', createdAtMs: 1 });
    store.close();
    // What a Kennel from before the objects migration left behind: none of the tables of that migration or later ones.
    const db = new Database(file);
    rollBackToSchemaVersion(db, 1);
    db.close();

    const migrated = openSqliteStore(file);
    try {
      assert.equal(migrated.accessKeys.get('KEY1')?.userName, 'admin');
      const object = { bucket: 'bucket-a', key: 'k', digest: 'e'.repeat(64), sizeBytes: 1, lastModifiedMs: 2 };
      migrated.objects.put(object);
      assert.deepEqual(migrated.objects.get('bucket-a', 'k'), object);
    } finally {
      migrated.close();
    }
    const after = new Database(file, { readonly: true });
    assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    after.close();
  });
});
