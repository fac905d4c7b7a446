import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type ErrorCode, isDomainError } from '../../core/errors.ts';
import { DEFAULT_BUCKET } from '../../domain/data/object-uri.ts';
import { type ArtifactStore, createArtifactStore } from '../../store/artifacts.ts';
import { openSqliteStore } from '../../store/sqlite/sqlite-store.ts';
import type { Store } from '../../store/store.ts';
import { ObjectStore } from './object-store.ts';

const BUCKET = DEFAULT_BUCKET;

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Files and folders under `dir`, relative to it, folders with a trailing slash. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)) + (entry.isDirectory() ? '/' : ''))
    .sort();
}

async function assertRejectsWith(action: () => Promise<unknown>, code: ErrorCode, parts: readonly string[] = []): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(isDomainError(error), `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, code);
    for (const part of parts) assert.ok(error.message.includes(part), `${JSON.stringify(error.message)} should mention ${part}`);
    return true;
  });
}

describe('object store', () => {
  let root: string;
  let store: Store;
  let artifacts: ArtifactStore;
  let nowMs: number;
  let objects: ObjectStore;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kennel-objects-'));
    store = openSqliteStore(join(root, 'kennel.db'));
    artifacts = createArtifactStore(join(root, 'artifacts'));
    nowMs = 1_700_000_000_000.75;
    objects = new ObjectStore(store.objects, artifacts, { now: () => nowMs });
  });

  afterEach(() => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Stores each key with its own name as content. */
  async function putAll(keys: readonly string[]): Promise<void> {
    for (const key of keys) await objects.putBytes(BUCKET, key, bytes(`content of ${key}`));
  }

  describe('put, head and get', () => {
    it('round-trips bytes, with their digest, size, time and content type', async () => {
      const put = await objects.putBytes(BUCKET, 'train/a.jpg', bytes('hello'), 'image/jpeg');
      assert.deepEqual(put, {
        bucket: BUCKET,
        key: 'train/a.jpg',
        digest: sha256('hello'),
        sizeBytes: 5,
        lastModifiedMs: 1_700_000_000_000,
        contentType: 'image/jpeg',
      });
      assert.deepEqual(objects.head(BUCKET, 'train/a.jpg'), put);
      assert.deepEqual(await objects.get(BUCKET, 'train/a.jpg'), bytes('hello'));
    });

    it('a second put replaces the object', async () => {
      await objects.putBytes(BUCKET, 'k', bytes('first'), 'text/plain');
      nowMs += 5000;
      const second = await objects.putBytes(BUCKET, 'k', bytes('second'));
      assert.equal('contentType' in second, false);
      assert.deepEqual(objects.head(BUCKET, 'k'), second);
      assert.deepEqual(await objects.get(BUCKET, 'k'), bytes('second'));
      assert.equal(second.lastModifiedMs, 1_700_000_005_000);
    });

    it('putFile stores a copy of the file, independent of the source afterwards', async () => {
      const source = join(root, 'model.tar.gz');
      writeFileSync(source, 'model bytes');
      const put = await objects.putFile(BUCKET, 'models/model.tar.gz', source, 'application/gzip');
      assert.equal(put.digest, sha256('model bytes'));
      assert.equal(put.sizeBytes, 11);
      assert.equal(put.contentType, 'application/gzip');
      writeFileSync(source, 'changed');
      assert.deepEqual(await objects.get(BUCKET, 'models/model.tar.gz'), bytes('model bytes'));
    });

    it('putFile of a missing file is NotFound and records nothing', async () => {
      await assertRejectsWith(() => objects.putFile(BUCKET, 'k', join(root, 'missing')), 'NotFound');
      assert.equal(objects.head(BUCKET, 'k'), undefined);
    });

    it('get of a missing object is NotFound naming its s3:// URI; head gives undefined', async () => {
      await assertRejectsWith(() => objects.get(BUCKET, 'no/such.jpg'), 'NotFound', [`s3://${BUCKET}/no/such.jpg`]);
      await assertRejectsWith(() => objects.get('other-bucket', 'x'), 'NotFound', ['s3://other-bucket/x']);
      assert.equal(objects.head(BUCKET, 'no/such.jpg'), undefined);
    });

    it('refuses a bad bucket or key before storing any content', async () => {
      await assertRejectsWith(() => objects.putBytes('Bad_Bucket', 'k', bytes('x')), 'ValidationError', ['Bad_Bucket']);
      await assertRejectsWith(() => objects.putBytes(BUCKET, '', bytes('x')), 'ValidationError', ['empty']);
      await assertRejectsWith(() => objects.putBytes(BUCKET, 'k'.repeat(1025), bytes('x')), 'ValidationError', ['1025 bytes']);
      assert.equal(existsSync(join(artifacts.dir, 'sha256')), false);
    });

    it('detects a corrupted blob on get', async () => {
      const put = await objects.putBytes(BUCKET, 'k', bytes('precious'));
      writeFileSync(objects.blobPath(put), 'damaged!');
      await assertRejectsWith(() => objects.get(BUCKET, 'k'), 'Internal', ['corrupt']);
    });

    it('says the content is missing when the blob file is gone', async () => {
      const put = await objects.putBytes(BUCKET, 'k', bytes('precious'));
      rmSync(objects.blobPath(put));
      await assertRejectsWith(() => objects.get(BUCKET, 'k'), 'Internal', [`s3://${BUCKET}/k`, 'missing', 'upload the object again']);
    });

    it('blobPath names the artifact file holding the bytes; objects with the same bytes share it', async () => {
      const a = await objects.putBytes(BUCKET, 'a', bytes('same'));
      const b = await objects.putBytes(BUCKET, 'b', bytes('same'));
      assert.equal(objects.blobPath(a), artifacts.path(sha256('same')));
      assert.equal(objects.blobPath(b), objects.blobPath(a));
      assert.deepEqual(readFileSync(objects.blobPath(a)), Buffer.from('same'));
    });
  });

  describe('list and delete', () => {
    it('lists every object under a prefix, across more than one page', () => {
      const digest = sha256('x');
      const keys = Array.from({ length: 2345 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      for (const key of [...keys, 'manz', 'man']) store.objects.put({ bucket: BUCKET, key, digest, sizeBytes: 1, lastModifiedMs: 0 });
      assert.deepEqual(objects.list(BUCKET, 'many/').map((o) => o.key), keys);
      assert.equal(objects.list(BUCKET, '').length, 2347);
      assert.deepEqual(objects.list(BUCKET, 'nothing/'), []);
    });

    it('delete removes the object, says whether there was one, and keeps the shared blob', async () => {
      const put = await objects.putBytes(BUCKET, 'a', bytes('shared'));
      await objects.putBytes(BUCKET, 'b', bytes('shared'));
      assert.equal(objects.delete(BUCKET, 'a'), true);
      assert.equal(objects.delete(BUCKET, 'a'), false);
      await assertRejectsWith(() => objects.get(BUCKET, 'a'), 'NotFound');
      assert.deepEqual(await objects.get(BUCKET, 'b'), bytes('shared'));
      assert.equal(existsSync(objects.blobPath(put)), true);
      assert.deepEqual(objects.list(BUCKET, '').map((o) => o.key), ['b']);
    });
  });

});
