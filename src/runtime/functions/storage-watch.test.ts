import assert from 'node:assert/strict';
import { mkdir, mkdtemp, open, realpath, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deletedOpenBytes, storageUse } from './storage-watch.ts';

const MB = 1024 * 1024;

describe('storageUse: what a function’s /tmp takes on disk', () => {
  it('counts bytes allocated, in nested folders, not a sparse file’s length or what a symbolic link points at', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kennel-storage-'));
    const outside = await mkdtemp(join(tmpdir(), 'kennel-storage-outside-'));
    try {
      await mkdir(join(root, 'a', 'b'), { recursive: true });
      await writeFile(join(root, 'a', 'b', 'data'), Buffer.alloc(2 * MB, 1));
      await writeFile(join(root, 'sparse'), '');
      await truncate(join(root, 'sparse'), 1024 * MB);
      await writeFile(join(outside, 'big'), Buffer.alloc(8 * MB, 1));
      await symlink(join(outside, 'big'), join(root, 'link'));
      const use = await storageUse(root);
      assert.equal(use.entries, 5, 'a, a/b, a/b/data, sparse, link');
      assert.equal(use.tooMany, false);
      assert.ok(use.bytes >= 2 * MB && use.bytes < 3 * MB, `${use.bytes} bytes`);
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('stops counting past the entry limit and says so', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kennel-storage-'));
    try {
      for (let i = 0; i < 5; i++) await writeFile(join(root, `f${i}`), 'x');
      assert.deepEqual({ ...(await storageUse(root, 3)), bytes: 0 }, { bytes: 0, entries: 4, tooMany: true });
      assert.equal((await storageUse(root, 5)).tooMany, false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('is empty for a folder that has gone', async () => {
    assert.deepEqual(await storageUse(join(tmpdir(), 'kennel-storage-never-made')), { bytes: 0, entries: 0, tooMany: false });
  });
});

describe('deletedOpenBytes: files a process deleted and still writes to', () => {
  it('counts a deleted file held open under the folder once, and nothing once it is closed', async () => {
    const root = await realpath(await mkdtemp(join(tmpdir(), 'kennel-storage-')));
    const elsewhere = await mkdtemp(join(tmpdir(), 'kennel-storage-elsewhere-'));
    try {
      const hidden = await open(join(root, 'hidden'), 'w+');
      const again = await open(join(root, 'hidden'), 'r');
      await unlink(join(root, 'hidden'));
      await hidden.write(Buffer.alloc(3 * MB, 1));
      await hidden.sync();
      const kept = await open(join(root, 'kept'), 'w');
      await kept.write(Buffer.alloc(MB, 1));
      const outside = await open(join(elsewhere, 'gone'), 'w');
      await unlink(join(elsewhere, 'gone'));
      await outside.write(Buffer.alloc(MB, 1));
      const bytes = await deletedOpenBytes(process.pid, root);
      assert.ok(bytes >= 3 * MB && bytes < 4 * MB, `${bytes} bytes: the deleted file once, not the file still named nor the one outside`);
      assert.equal((await storageUse(root)).entries, 1, 'the walk sees only the file still named');
      await Promise.all([hidden.close(), again.close(), kept.close(), outside.close()]);
      assert.equal(await deletedOpenBytes(process.pid, root), 0);
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('is nothing for a process that has gone', async () => {
    assert.equal(await deletedOpenBytes(2 ** 22 + 1, tmpdir()), 0);
  });
});
