import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yazl from 'yazl';
import { assertRejectsWithDomainError } from '../../testing/assert-domain-error.ts';
import { ensureUnpacked, inspectPackage, unpackPackage, zipFiles, zipFolder } from './function-package.ts';

async function zipWith(add: (archive: yazl.ZipFile) => void): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  add(archive);
  archive.end();
  const chunks: Buffer[] = [];
  for await (const chunk of archive.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('function deployment packages', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-package-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('inspects a zip: its hash as Lambda reports CodeSha256, and its sizes', async () => {
    const zip = await zipFiles({ 'index.mjs': 'export const handler = async () => 1;', 'lib/util.js': 'x'.repeat(1000) });
    const summary = await inspectPackage(zip, 1_000_000);
    assert.equal(summary.sizeBytes, zip.length);
    assert.equal(summary.unzippedBytes, 1000 + 'export const handler = async () => 1;'.length);
    assert.equal(summary.entries, 2);
    assert.equal(Buffer.from(summary.sha256Base64, 'base64').toString('hex'), summary.sha256Hex);
  });

  it('refuses what is not a zip, an empty zip, and one that unpacks past the limit, with Lambda’s message', async () => {
    await assertRejectsWithDomainError(inspectPackage(Buffer.from('not a zip at all'), 1000), 'ValidationError', { message: /Could not unzip uploaded file/ });
    await assertRejectsWithDomainError(inspectPackage(await zipWith(() => {}), 1000), 'ValidationError', { message: /^Uploaded file must be a non-empty zip$/ });
    await assertRejectsWithDomainError(inspectPackage(await zipFiles({ big: 'y'.repeat(5000) }), 4096), 'ValidationError', { message: /Unzipped size must be smaller than 4096 bytes/ });
  });

  it('refuses entries that climb out of the package', async () => {
    const zip = await zipWith((archive) => {
      // yazl itself refuses such names, so the entry is renamed in the finished archive's bytes.
      archive.addBuffer(Buffer.from('owned'), 'aa/evil.txt');
    });
    const patched = Buffer.from(zip.toString('latin1').replaceAll('aa/evil.txt', '../evil.txt'), 'latin1');
    await assertRejectsWithDomainError(inspectPackage(patched, 1000), 'ValidationError', { message: /Could not unzip/ });
  });

  it('unpacks files, folders and modes, and keeps a symlink that stays inside', async () => {
    const zip = await zipWith((archive) => {
      archive.addBuffer(Buffer.from('#!/bin/sh\necho hi\n'), 'bin/run.sh', { mode: 0o100755 });
      archive.addBuffer(Buffer.from('data'), 'lib/data.txt');
      archive.addBuffer(Buffer.from('data.txt'), 'lib/alias.txt', { mode: 0o120777 });
    });
    const target = join(dir, 'unpacked');
    await unpackPackage(zip, target);
    assert.equal(await readFile(join(target, 'lib/data.txt'), 'utf8'), 'data');
    assert.equal(await readFile(join(target, 'lib/alias.txt'), 'utf8'), 'data');
    assert.ok(((await stat(join(target, 'bin/run.sh'))).mode & 0o111) !== 0);
  });

  it('refuses a symlink out of the package, and leaves nothing behind', async () => {
    const zip = await zipWith((archive) => {
      archive.addBuffer(Buffer.from('fine'), 'ok.txt');
      archive.addBuffer(Buffer.from('../../credentials'), 'creds', { mode: 0o120777 });
    });
    const target = join(dir, 'escape');
    await assertRejectsWithDomainError(unpackPackage(zip, target), 'ValidationError', { message: /symlink creds points outside the package/ });
    assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('escape')), []);
  });

  it('refuses chained symlinks that would carry a write out of the package, and a file written over a symlink', async () => {
    const chained = await zipWith((archive) => {
      archive.addBuffer(Buffer.from('..'), 'a/b', { mode: 0o120777 });
      archive.addBuffer(Buffer.from('..'), 'a/b/c', { mode: 0o120777 });
      archive.addBuffer(Buffer.from('pwned'), 'a/b/c/pwned.txt');
    });
    await assertRejectsWithDomainError(unpackPackage(chained, join(dir, 'chained')), 'ValidationError', { message: /lies under one of its symlinks/ });
    const overwrite = await zipWith((archive) => {
      archive.addBuffer(Buffer.from('target.txt'), 'link.txt', { mode: 0o120777 });
      archive.addBuffer(Buffer.from('t'), 'target.txt');
      archive.addBuffer(Buffer.from('through the link'), 'link.txt');
    });
    await assertRejectsWithDomainError(unpackPackage(overwrite, join(dir, 'overwrite')), 'ValidationError');
    assert.deepEqual((await readdir(dirname(dir))).filter((name) => name === 'pwned.txt'), []);
    assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('chained') || name.startsWith('overwrite')), []);
  });

  it('unpacks the same package twice at once without either failing', async () => {
    const zip = await zipFiles({ 'index.mjs': 'export const handler = async () => 1;' });
    const target = join(dir, 'together');
    await Promise.all([ensureUnpacked(target, async () => zip), ensureUnpacked(target, async () => zip), ensureUnpacked(target, async () => zip)]);
    assert.equal(await readFile(join(target, 'index.mjs'), 'utf8'), 'export const handler = async () => 1;');
  });

  it('unpacks once: a present folder is reused as it is', async () => {
    const target = join(dir, 'once');
    let reads = 0;
    const zip = async () => {
      reads++;
      return zipFiles({ 'a.txt': 'a' });
    };
    await ensureUnpacked(target, zip);
    await ensureUnpacked(target, zip);
    assert.equal(reads, 1);
  });

  it('zips a folder so that unpacking gives it back', async () => {
    const source = join(dir, 'source');
    await mkdir(join(source, 'nested'), { recursive: true });
    await writeFile(join(source, 'index.js'), 'exports.handler = async () => 1;');
    await writeFile(join(source, 'nested', 'n.txt'), 'n');
    const copy = join(dir, 'copy');
    await unpackPackage(await zipFolder(source), copy);
    assert.equal(await readFile(join(copy, 'nested', 'n.txt'), 'utf8'), 'n');
    assert.equal(await readFile(join(copy, 'index.js'), 'utf8'), 'exports.handler = async () => 1;');
  });

  it('zips the same files to the same bytes whatever their dates, so a checkout or a copy keeps CodeSha256', async () => {
    const source = join(dir, 'dated');
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'index.js'), 'exports.handler = async () => 1;');
    const before = await zipFolder(source);
    await utimes(join(source, 'index.js'), new Date('2031-05-06T07:08:09Z'), new Date('2031-05-06T07:08:09Z'));
    assert.deepEqual(await zipFolder(source), before);
    await writeFile(join(source, 'index.js'), 'exports.handler = async () => 2;');
    assert.notDeepEqual(await zipFolder(source), before, 'other content, another package');
  });
});
