import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type ErrorCode, isDomainError } from '../core/errors.ts';
import { seededRandom } from '../core/random.ts';
import { type ArtifactStore, createArtifactStore } from './artifacts.ts';

/** sha256("hello") */
const HELLO_DIGEST = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random.next() * 256));
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

async function assertRejectsWith(action: () => Promise<unknown>, code: ErrorCode, messagePart?: string): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(isDomainError(error), `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (messagePart !== undefined) assert.ok(error.message.includes(messagePart), `${JSON.stringify(error.message)} should mention ${messagePart}`);
    return true;
  });
}

describe('artifact store', () => {
  let root: string;
  let dir: string;
  let artifacts: ArtifactStore;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kennel-artifacts-'));
    dir = join(root, 'artifacts');
    artifacts = createArtifactStore(dir);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores bytes under their SHA-256 and returns them', async () => {
    const digest = await artifacts.put(bytes('hello'));
    assert.equal(digest, HELLO_DIGEST);
    assert.equal(artifacts.path(digest), join(dir, 'sha256', '2c', HELLO_DIGEST.slice(2)));
    assert.deepEqual(await artifacts.get(digest), bytes('hello'));
    assert.equal(await artifacts.has(digest), true);
  });

  it('stores an empty artifact', async () => {
    const digest = await artifacts.put(new Uint8Array(0));
    assert.equal(digest, createHash('sha256').digest('hex'));
    assert.deepEqual(await artifacts.get(digest), new Uint8Array(0));
  });

  it('put of the same content again returns the same digest and keeps one file', async () => {
    const first = await artifacts.put(bytes('hello'));
    const before = statSync(artifacts.path(first));
    const [second, third] = await Promise.all([artifacts.put(bytes('hello')), artifacts.put(bytes('hello'))]);
    assert.equal(second, first);
    assert.equal(third, first);
    assert.equal(statSync(artifacts.path(first)).ino, before.ino, 'an intact file is not rewritten');
    assert.deepEqual(filesUnder(dir), [join('sha256', '2c', HELLO_DIGEST.slice(2))]);
  });

  it('putFile streams a file in and gives the digest put gives for the same bytes', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 17, 1);
    const source = join(root, 'backbone.onnx');
    writeFileSync(source, content);
    const digest = await artifacts.putFile(source);
    assert.equal(digest, createHash('sha256').update(content).digest('hex'));
    assert.deepEqual(await artifacts.get(digest), content);
    assert.equal(await artifacts.putFile(source), digest);
    assert.equal(await artifacts.put(content), digest);
  });

  it('putFile of a missing file throws NotFound and leaves nothing behind', async () => {
    await assertRejectsWith(() => artifacts.putFile(join(root, 'nope.onnx')), 'NotFound', 'nope.onnx');
    assert.deepEqual(filesUnder(dir), []);
  });

  it('leaves no temp files after put and putFile', async () => {
    const source = join(root, 'model.bin');
    writeFileSync(source, randomBytes(1000, 2));
    const a = await artifacts.put(randomBytes(5000, 3));
    const b = await artifacts.putFile(source);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
    assert.deepEqual(filesUnder(dir), [relative(dir, artifacts.path(a)), relative(dir, artifacts.path(b))].sort());
  });

  it('get of a missing artifact throws NotFound; has says false', async () => {
    const digest = 'f'.repeat(64);
    await assertRejectsWith(() => artifacts.get(digest), 'NotFound', digest);
    assert.equal(await artifacts.has(digest), false);
  });

  for (const bad of ['../x', '../'.repeat(21) + 'etc/passwd', HELLO_DIGEST.toUpperCase(), HELLO_DIGEST.slice(0, 63), `${HELLO_DIGEST}0`, `${HELLO_DIGEST.slice(0, 62)}/x`, '', `sha256:${HELLO_DIGEST}`]) {
    it(`refuses the digest ${JSON.stringify(bad.length > 30 ? bad.slice(0, 30) + '…' : bad)} everywhere`, async () => {
      await artifacts.put(bytes('hello'));
      assert.throws(() => artifacts.path(bad), (error: unknown) => isDomainError(error) && error.code === 'ValidationError');
      await assertRejectsWith(() => artifacts.get(bad), 'ValidationError', '64 lowercase hexadecimal digits');
      await assertRejectsWith(() => artifacts.has(bad), 'ValidationError');
    });
  }

  it('detects a file whose content no longer matches its digest, and put repairs it', async () => {
    const digest = await artifacts.put(bytes('hello'));
    writeFileSync(artifacts.path(digest), 'jello');
    await assertRejectsWith(() => artifacts.get(digest), 'Internal', 'is corrupt');
    assert.equal(await artifacts.put(bytes('hello')), digest);
    assert.deepEqual(await artifacts.get(digest), bytes('hello'));
  });
});
