import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import { unpackModelArchive } from '../models/model-archive.ts';
import { packModelDir } from './model-output.ts';

let scratch: string;
let modelDir: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kennel-model-dir-'));
  modelDir = join(scratch, 'model');
  mkdirSync(modelDir);
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe('packModelDir', () => {
  it('packs everything the script wrote, with names relative to the model folder', async () => {
    writeFileSync(join(modelDir, 'model.pth'), 'weights');
    mkdirSync(join(modelDir, 'code'));
    writeFileSync(join(modelDir, 'code/inference.py'), 'def model_fn(d): ...');
    mkdirSync(join(modelDir, 'empty'));
    const packed = await packModelDir(modelDir);
    assert.deepEqual(packed.files, ['code/inference.py', 'model.pth']);
    assert.deepEqual(packed.skipped, []);
    const files = await unpackModelArchive(packed.archive);
    assert.deepEqual([...files.keys()].sort(), ['code/inference.py', 'model.pth']);
    assert.equal(text(files.get('model.pth')), 'weights');
    assert.deepEqual((await packModelDir(modelDir)).archive, packed.archive, 'the same files pack to the same bytes');
  });

  it('packs a link to a file of the folder as that file, and leaves out other links and special files', async () => {
    writeFileSync(join(modelDir, 'epoch-3.pth'), 'three');
    symlinkSync(join(modelDir, 'epoch-3.pth'), join(modelDir, 'latest.pth'));
    symlinkSync('/etc/passwd', join(modelDir, 'passwd'));
    symlinkSync(join(modelDir, 'gone'), join(modelDir, 'dangling'));
    mkdirSync(join(scratch, 'elsewhere'));
    symlinkSync(join(scratch, 'elsewhere'), join(modelDir, 'folder-link'));
    mkdirSync(join(modelDir, 'inner'));
    symlinkSync(join(modelDir, 'inner'), join(modelDir, 'inner-link'));
    execFileSync('mkfifo', [join(modelDir, 'pipe')]);
    const packed = await packModelDir(modelDir);
    assert.deepEqual(packed.files, ['epoch-3.pth', 'latest.pth']);
    assert.equal(text((await unpackModelArchive(packed.archive)).get('latest.pth')), 'three');
    assert.deepEqual(packed.skipped, [
      { path: 'dangling', reason: 'a symbolic link to nothing' },
      { path: 'folder-link', reason: `a symbolic link to ${join(scratch, 'elsewhere')}, outside the model folder` },
      { path: 'inner-link', reason: 'a symbolic link to something other than a file' },
      { path: 'passwd', reason: 'a symbolic link to /etc/passwd, outside the model folder' },
      { path: 'pipe', reason: 'neither a file nor a folder' },
    ]);
  });

  it('packs an empty folder as an empty archive', async () => {
    const packed = await packModelDir(modelDir);
    assert.deepEqual(packed.files, []);
    assert.equal((await unpackModelArchive(packed.archive)).size, 0);
  });

  it('refuses a folder over the limits before reading it', async () => {
    writeFileSync(join(modelDir, 'a.bin'), Buffer.alloc(600));
    writeFileSync(join(modelDir, 'b.bin'), Buffer.alloc(600));
    for (const [limits, pattern] of [
      [{ maxBytes: 1000 }, /The model folder \(SM_MODEL_DIR\) holds more than 1000 bytes, the most Kennel packs into one archive: keep only what the model needs/],
      [{ maxFiles: 1 }, /holds more than 1 files/],
    ] as const) {
      await assert.rejects(packModelDir(modelDir, limits), (error: unknown) => {
        assert.ok(isDomainError(error));
        assert.equal(error.code, 'LimitExceeded');
        assert.match(error.message, pattern);
        return true;
      });
    }
  });
});
