import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar, { type Header } from 'tar-stream';
import { isDomainError } from '../../core/errors.ts';
import { seededRandom } from '../../core/random.ts';
import { packModelArchive, unpackModelArchive } from './model-archive.ts';

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random.next() * 256));
}

type RawEntry = { header: Partial<Header> & { name: string }; content?: string };

/** A tar with exactly these entries, however hostile: what packModelArchive itself would refuse to write. */
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

/** A copy of the first tar header in `tarBytes` with a field or two overwritten, its checksum recomputed. */
function patchedHeader(tarBytes: Buffer, patch: { size?: number; typeFlag?: string }): Buffer {
  const header = Buffer.from(tarBytes.subarray(0, 512));
  if (patch.size !== undefined) header.write(`${patch.size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  if (patch.typeFlag !== undefined) header.write(patch.typeFlag, 156, 'ascii');
  header.fill(' ', 148, 156);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

async function rawArchive(entries: readonly RawEntry[]): Promise<Uint8Array> {
  return gzipSync(await rawTar(entries));
}

async function assertRefused(action: () => Promise<unknown>, parts: readonly string[]): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(isDomainError(error), `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, 'ValidationError');
    assert.ok(error.message.startsWith('model.tar.gz '), error.message);
    for (const part of parts) assert.ok(error.message.includes(part), `${JSON.stringify(error.message)} should mention ${part}`);
    return true;
  });
}

const MODEL_FILES = {
  'kennel-model.json': bytes('{"format":"kennel.image-classifier"}'),
  'head.onnx': randomBytes(70_000, 1),
  'labels.json': bytes('{"classes":[]}'),
  'code/inference.py': bytes('def model_fn(model_dir): ...\n'),
};

describe('packModelArchive and unpackModelArchive', () => {
  it('round-trips files, empty ones, long and unicode names included', async () => {
    const files = new Map<string, Uint8Array>([
      ...Object.entries(MODEL_FILES),
      ['empty.txt', new Uint8Array(0)],
      [`${'deep/'.repeat(30)}weights.bin`, randomBytes(1000, 2)],
      ['données/étiquettes 🐕.json', bytes('[]')],
    ]);
    const unpacked = await unpackModelArchive(await packModelArchive(files));
    assert.deepEqual([...unpacked.keys()].sort(), [...files.keys()].sort());
    for (const [name, content] of files) assert.deepEqual(unpacked.get(name), content, name);
  });

  it('returns file contents that own their memory', async () => {
    const unpacked = await unpackModelArchive(await packModelArchive({ 'a.txt': bytes('a'), 'b.txt': bytes('bb') }));
    for (const content of unpacked.values()) assert.equal(content.buffer.byteLength, content.byteLength);
  });

  it('packs the same bytes for the same files and mtime, whatever the order given', async () => {
    const reversed = Object.fromEntries(Object.entries(MODEL_FILES).reverse());
    const first = await packModelArchive(MODEL_FILES, { mtimeMs: 1_700_000_000_000 });
    assert.deepEqual(await packModelArchive(new Map(Object.entries(reversed)), { mtimeMs: 1_700_000_000_000 }), first);
    assert.notDeepEqual(await packModelArchive(MODEL_FILES, { mtimeMs: 1_800_000_000_000 }), first);
    assert.deepEqual(await packModelArchive(MODEL_FILES), await packModelArchive(MODEL_FILES, { mtimeMs: 0 }));
  });

  it('writes sorted regular files with mode 0644, fixed owners and the given mtime', async () => {
    const archive = await packModelArchive({ 'b.txt': bytes('b'), 'a.txt': bytes('a') }, { mtimeMs: 1_700_000_000_999 });
    const extractor = tar.extract();
    extractor.end(gunzipSync(archive));
    const headers: Header[] = [];
    for await (const entry of extractor) {
      headers.push(entry.header);
      entry.resume();
    }
    assert.deepEqual(
      headers.map((h) => [h.name, h.type, h.mode, h.uid, h.gid, h.uname, h.gname, h.mtime.getTime()]),
      [
        ['a.txt', 'file', 0o644, 0, 0, '', '', 1_700_000_000_000],
        ['b.txt', 'file', 0o644, 0, 0, '', '', 1_700_000_000_000],
      ],
    );
  });

  it('refuses to pack a name that is not a relative path inside the model folder', async () => {
    for (const name of ['', '/etc/passwd', '../outside', 'a/../../b', './head.onnx', 'a//b', 'dir/']) {
      await assertRefused(() => packModelArchive({ [name]: bytes('x') }), [JSON.stringify(name), 'relative path']);
    }
  });
});

describe('unpackModelArchive on archives made elsewhere', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kennel-archive-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads an archive made by the system tar, folders skipped and ./ stripped', async () => {
    const modelDir = join(dir, 'model');
    mkdirSync(join(modelDir, 'code'), { recursive: true });
    mkdirSync(join(modelDir, 'empty-folder'));
    for (const [name, content] of Object.entries(MODEL_FILES)) writeFileSync(join(modelDir, name), content);
    const archivePath = join(dir, 'model.tar.gz');
    execFileSync('tar', ['czf', archivePath, '-C', modelDir, '.']);
    const listing = execFileSync('tar', ['tzf', archivePath], { encoding: 'utf8' });
    assert.ok(listing.includes('./code/inference.py'), 'the system tar writes ./ names');

    const unpacked = await unpackModelArchive(readFileSync(archivePath));
    assert.deepEqual([...unpacked.keys()].sort(), Object.keys(MODEL_FILES).sort());
    for (const [name, content] of Object.entries(MODEL_FILES)) assert.deepEqual(unpacked.get(name), content, name);
  });

  it('writes archives the system tar reads back', async () => {
    const archivePath = join(dir, 'model.tar.gz');
    writeFileSync(archivePath, await packModelArchive(MODEL_FILES));
    const out = join(dir, 'out');
    mkdirSync(out);
    execFileSync('tar', ['xzf', archivePath, '-C', out]);
    for (const [name, content] of Object.entries(MODEL_FILES)) assert.deepEqual(new Uint8Array(readFileSync(join(out, name))), content, name);
    const verbose = execFileSync('tar', ['tvzf', archivePath], { encoding: 'utf8' });
    assert.ok(verbose.split('\n').filter(Boolean).every((line) => line.startsWith('-rw-r--r--')), verbose);
  });

  it('refuses an archive made by the system tar that holds a symbolic link', async () => {
    const modelDir = join(dir, 'model');
    mkdirSync(modelDir);
    writeFileSync(join(modelDir, 'head.onnx'), 'x');
    symlinkSync('/etc/passwd', join(modelDir, 'labels.json'));
    const archivePath = join(dir, 'model.tar.gz');
    execFileSync('tar', ['czf', archivePath, '-C', modelDir, '.']);
    await assertRefused(() => unpackModelArchive(readFileSync(archivePath)), ['"./labels.json" is a symbolic link to "/etc/passwd"', 'only regular files']);
  });
});

describe('unpackModelArchive on hostile input', () => {
  it('strips leading ./ from names', async () => {
    const archive = await rawArchive([
      { header: { name: './', type: 'directory' } },
      { header: { name: './a.txt' }, content: 'a' },
      { header: { name: '././b/c.txt' }, content: 'c' },
    ]);
    assert.deepEqual(
      [...(await unpackModelArchive(archive))].map(([name, content]) => [name, new TextDecoder().decode(content)]),
      [
        ['a.txt', 'a'],
        ['b/c.txt', 'c'],
      ],
    );
  });

  const badNames: [string, string][] = [
    ['../../etc/cron.d/evil', '".." segment'],
    ['model/../../outside', '".." segment'],
    ['./..', '".." segment'],
    ['/etc/passwd', 'absolute path'],
    ['a//b', 'empty or "." path segment'],
    ['a/./b', 'empty or "." path segment'],
    ['./', 'is empty'],
  ];
  for (const [name, rule] of badNames) {
    it(`refuses the entry name ${JSON.stringify(name)}: ${rule}`, async () => {
      const archive = await rawArchive([{ header: { name: 'ok.txt' }, content: 'ok' }, { header: { name, type: 'file' }, content: 'evil' }]);
      await assertRefused(() => unpackModelArchive(archive), [JSON.stringify(name), rule]);
    });
  }

  it('skips folders whatever their names, since nothing is written for them', async () => {
    const archive = await rawArchive([
      { header: { name: '../outside/', type: 'directory' } },
      { header: { name: 'ok.txt' }, content: 'ok' },
    ]);
    assert.deepEqual([...(await unpackModelArchive(archive)).keys()], ['ok.txt']);
  });

  const specialEntries: [string, RawEntry][] = [
    ['symbolic link to "/etc/passwd"', { header: { name: 'labels.json', type: 'symlink', linkname: '/etc/passwd' } }],
    ['hard link to "head.onnx"', { header: { name: 'labels.json', type: 'link', linkname: 'head.onnx' } }],
    ['character device', { header: { name: 'null', type: 'character-device', devmajor: 1, devminor: 3 } }],
    ['block device', { header: { name: 'disk', type: 'block-device' } }],
    ['FIFO', { header: { name: 'pipe', type: 'fifo' } }],
  ];
  for (const [kind, entry] of specialEntries) {
    it(`refuses a ${kind}`, async () => {
      const archive = await rawArchive([{ header: { name: 'head.onnx' }, content: 'x' }, entry]);
      await assertRefused(() => unpackModelArchive(archive), [`${JSON.stringify(entry.header.name)} is a ${kind}`, 'only regular files']);
    });
  }

  it('refuses an entry of a type it does not know', async () => {
    const tarBytes = await rawTar([{ header: { name: 'sparse.bin' }, content: 'x' }]);
    // Type flag "S": a GNU sparse file.
    const header = patchedHeader(tarBytes, { typeFlag: 'S' });
    await assertRefused(() => unpackModelArchive(gzipSync(Buffer.concat([header, tarBytes.subarray(512)]))), ['"sparse.bin"', 'unsupported type']);
  });

  it('refuses a name that appears twice, also once ./ is stripped', async () => {
    for (const second of ['head.onnx', './head.onnx']) {
      const archive = await rawArchive([{ header: { name: 'head.onnx' }, content: 'real' }, { header: { name: second }, content: 'impostor' }]);
      await assertRefused(() => unpackModelArchive(archive), ['"head.onnx" twice']);
    }
  });

  it('refuses more entries than the limit, folders counted', async () => {
    const entries: RawEntry[] = [{ header: { name: 'dir/', type: 'directory' } }, ...[1, 2, 3].map((i) => ({ header: { name: `dir/${i}` }, content: 'x' }))];
    const archive = await rawArchive(entries);
    assert.equal((await unpackModelArchive(archive, { maxEntries: 4 })).size, 3);
    await assertRefused(() => unpackModelArchive(archive, { maxEntries: 3 }), ['more than 3 entries']);
  });

  it('refuses an entry over the per-file limit before reading its content', async () => {
    const archive = await packModelArchive({ 'small.bin': new Uint8Array(10), 'big.bin': new Uint8Array(11) });
    assert.equal((await unpackModelArchive(archive, { maxEntryBytes: 11 })).size, 2);
    await assertRefused(() => unpackModelArchive(archive, { maxEntryBytes: 10 }), ['"big.bin"', '11 bytes', 'limit of 10']);
  });

  it('refuses an archive that inflates past the total limit', async () => {
    const archive = await packModelArchive({ 'zeros.bin': new Uint8Array(4 * 1024 * 1024) });
    assert.ok(archive.byteLength < 10_000, 'four MiB of zeros compress to a few KB');
    await assertRefused(() => unpackModelArchive(archive, { maxTotalBytes: 1024 * 1024 }), ['more than 1048576 bytes']);
  });

  it('stops a gzip bomb at the limit instead of inflating all of it', async () => {
    // One 1 MiB member of zeros, concatenated: a few MB of gzip that would inflate to 16 GiB.
    const member = gzipSync(new Uint8Array(1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 16 * 1024 }, () => member));
    assert.ok(bomb.byteLength < 32 * 1024 * 1024);
    // Zeros read as end-of-archive blocks, which a tar parser skips: only the inflated-bytes cap ends this.
    await assertRefused(() => unpackModelArchive(bomb, { maxTotalBytes: 8 * 1024 * 1024 }), ['more than 8388608 bytes']);

    // The same zeros as the content of one file that claims 1 GiB, under the per-file limit.
    const header = patchedHeader(await rawTar([{ header: { name: 'weights.bin' }, content: 'x' }]), { size: 1024 * 1024 * 1024 });
    const withEntry = Buffer.concat([gzipSync(header), bomb]);
    await assertRefused(() => unpackModelArchive(withEntry, { maxTotalBytes: 8 * 1024 * 1024 }), ['more than 8388608 bytes']);
  });

  it('refuses truncated archives', async () => {
    const archive = await packModelArchive(MODEL_FILES);
    for (const length of [0, 5, 20, Math.floor(archive.byteLength / 2), archive.byteLength - 1]) {
      await assertRefused(() => unpackModelArchive(archive.subarray(0, length)), ['not a valid gzip-compressed tar archive', 'tar czf']);
    }
    const tarBytes = await rawTar([{ header: { name: 'head.onnx' }, content: 'x'.repeat(2000) }]);
    await assertRefused(() => unpackModelArchive(gzipSync(tarBytes.subarray(0, 1024))), ['not a valid gzip-compressed tar archive']);
  });

  it('refuses garbage, and gzip that holds no tar', async () => {
    await assertRefused(() => unpackModelArchive(randomBytes(4096, 3)), ['not a valid gzip-compressed tar archive']);
    await assertRefused(() => unpackModelArchive(bytes('PK\u0003\u0004 this is a zip')), ['not a valid gzip-compressed tar archive']);
    await assertRefused(() => unpackModelArchive(gzipSync(Buffer.from('just some text, '.repeat(100)))), ['not a valid gzip-compressed tar archive']);
  });

  it('reads an empty archive as no files', async () => {
    assert.equal((await unpackModelArchive(await packModelArchive({}))).size, 0);
  });
});
