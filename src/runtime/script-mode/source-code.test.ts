import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import tar, { type Header } from 'tar-stream';
import { isDomainError, type ErrorCode } from '../../core/errors.ts';
import { locateProgram, unpackSourceDir } from './source-code.ts';

let scratch: string;
let codeDir: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kennel-source-'));
  codeDir = join(scratch, 'code');
  mkdirSync(codeDir);
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

/** A source folder as people have them: an entry point, a helper package, an executable script. */
function sourceFolder(): string {
  const folder = join(scratch, 'src');
  mkdirSync(join(folder, 'lib'), { recursive: true });
  writeFileSync(join(folder, 'train.py'), 'print("hi")\n');
  writeFileSync(join(folder, 'lib/__init__.py'), '');
  writeFileSync(join(folder, 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(folder, 'run.sh'), 0o755);
  return folder;
}

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((entry) => `${join(entry.parentPath, entry.name).slice(dir.length + 1)}${entry.isDirectory() ? '/' : ''}`)
    .sort();
}

type RawEntry = { header: Partial<Header> & { name: string }; content?: string };

/** A tar with exactly these entries, however hostile. */
async function rawTar(entries: readonly RawEntry[]): Promise<Buffer> {
  const packer = tar.pack();
  const out = buffer(packer);
  for (const { header, content } of entries) {
    if (content === undefined) packer.entry({ mtime: new Date(0), ...header });
    else packer.entry({ mtime: new Date(0), ...header }, Buffer.from(content));
  }
  packer.finalize();
  return out;
}

async function assertRefused(action: () => Promise<unknown>, pattern: RegExp, code: ErrorCode = 'ValidationError'): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(isDomainError(error), `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('unpackSourceDir', () => {
  it('unpacks a sourcedir.tar.gz made with tar, keeping executable bits', async () => {
    const archive = join(scratch, 'sourcedir.tar.gz');
    execFileSync('tar', ['czf', archive, '-C', sourceFolder(), '.']);
    await unpackSourceDir({ kind: 'tarball', bytes: readFileSync(archive) }, codeDir);
    assert.deepEqual(listing(codeDir), ['lib/', 'lib/__init__.py', 'run.sh', 'train.py']);
    assert.equal(readFileSync(join(codeDir, 'train.py'), 'utf8'), 'print("hi")\n');
    assert.equal(statSync(join(codeDir, 'run.sh')).mode & 0o777, 0o755);
    assert.equal(statSync(join(codeDir, 'train.py')).mode & 0o777, 0o644);
  });

  it('unpacks a tar that is not compressed', async () => {
    await unpackSourceDir({ kind: 'tarball', bytes: await rawTar([{ header: { name: 'src/train.py' }, content: 'x' }]) }, codeDir);
    assert.deepEqual(listing(codeDir), ['src/', 'src/train.py']);
  });

  it('copies a source folder', async () => {
    await unpackSourceDir({ kind: 'folder', path: sourceFolder() }, codeDir);
    assert.deepEqual(listing(codeDir), ['lib/', 'lib/__init__.py', 'run.sh', 'train.py']);
  });

  const hostile: [string, RawEntry[], RegExp][] = [
    ['a symbolic link', [{ header: { name: 'train.py', type: 'symlink', linkname: '/etc/passwd' } }], /entry "train\.py" is a symbolic link to "\/etc\/passwd": it may hold only files and folders/],
    ['a hard link', [{ header: { name: 'a.py' }, content: 'x' }, { header: { name: 'b.py', type: 'link', linkname: 'a.py' } }], /entry "b\.py" is a hard link to "a\.py"/],
    ['a device', [{ header: { name: 'dev', type: 'character-device' } }], /entry "dev" is a character device/],
    ['an absolute name', [{ header: { name: '/etc/cron.d/x' }, content: 'x' }], /entry name "\/etc\/cron\.d\/x" is an absolute path/],
    ['a name that climbs out', [{ header: { name: '../../outside.py' }, content: 'x' }], /entry name "\.\.\/\.\.\/outside\.py" has a "\.\." segment/],
    ['a name twice', [{ header: { name: 'train.py' }, content: 'a' }, { header: { name: './train.py' }, content: 'b' }], /holds "train\.py" twice/],
  ];
  for (const [what, entries, pattern] of hostile) {
    it(`refuses an archive with ${what}`, async () => {
      await assertRefused(async () => unpackSourceDir({ kind: 'tarball', bytes: gzipSync(await rawTar(entries)) }, codeDir), new RegExp(`^sourcedir\\.tar\\.gz ${pattern.source}`));
      assert.deepEqual(readdirSync(scratch).filter((name) => name !== 'code'), [], 'nothing was written outside the code folder');
    });
  }

  it('stops a gzip bomb at the limit', async () => {
    const bomb = gzipSync(await rawTar([{ header: { name: 'zeros.bin' }, content: '\0'.repeat(4 * 1024 * 1024) }]));
    assert.ok(bomb.byteLength < 64 * 1024);
    await assertRefused(() => unpackSourceDir({ kind: 'tarball', bytes: bomb }, codeDir, { maxBytes: 1024 * 1024 }), /inflates to more than 1048576 bytes/);
  });

  it('refuses more files than the limit, from an archive or a folder', async () => {
    const entries = Array.from({ length: 4 }, (_, i) => ({ header: { name: `f${i}.py` }, content: 'x' }));
    await assertRefused(async () => unpackSourceDir({ kind: 'tarball', bytes: gzipSync(await rawTar(entries)) }, codeDir, { maxFiles: 3 }), /holds more than 3 files/);
    await assertRefused(() => unpackSourceDir({ kind: 'folder', path: sourceFolder() }, join(scratch, 'other'), { maxFiles: 2 }), /holds more than 2 files/, 'LimitExceeded');
  });

  it('refuses what is not an archive, or a broken one', async () => {
    await assertRefused(() => unpackSourceDir({ kind: 'tarball', bytes: new TextEncoder().encode('print("a script, not an archive")') }, codeDir), /is neither a gzip-compressed tar nor a tar archive.*tar czf sourcedir\.tar\.gz/);
    const truncated = gzipSync(await rawTar([{ header: { name: 'a.py' }, content: 'x'.repeat(10_000) }])).subarray(0, 100);
    await assertRefused(() => unpackSourceDir({ kind: 'tarball', bytes: truncated }, codeDir), /^sourcedir\.tar\.gz is not (valid gzip data|a valid tar archive)/);
  });

  it('refuses a folder with a link outside that is dangling', async () => {
    const folder = sourceFolder();
    symlinkSync(join(scratch, 'missing.py'), join(folder, 'missing.py'));
    await assertRefused(() => unpackSourceDir({ kind: 'folder', path: folder }, codeDir), /^The source folder \(sagemaker_submit_directory\): .*missing\.py cannot be read/);
  });
});

describe('locateProgram', () => {
  it('finds the entry point inside the code folder', async () => {
    await unpackSourceDir({ kind: 'folder', path: sourceFolder() }, codeDir);
    assert.equal(await locateProgram(codeDir, 'train.py'), join(codeDir, 'train.py'));
    assert.equal(await locateProgram(codeDir, 'lib/__init__.py'), join(codeDir, 'lib/__init__.py'));
  });

  it('says what the code folder holds when the entry point is not there', async () => {
    await unpackSourceDir({ kind: 'folder', path: sourceFolder() }, codeDir);
    await assertRefused(() => locateProgram(codeDir, 'hpo.py'), /sagemaker_program "hpo\.py" is not a file in the source code .*: its top level holds lib, run\.sh, train\.py/);
    await assertRefused(() => locateProgram(codeDir, 'lib'), /"lib" is not a file/);
    await assertRefused(() => locateProgram(join(scratch, 'code'), 'x.py'), /x\.py/);
  });
});
