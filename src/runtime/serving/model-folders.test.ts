import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packModelArchive } from '../models/model-archive.ts';
import { ModelFolders } from './model-folders.ts';

const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);

describe('ModelFolders', () => {
  let root: string;
  let archive: Uint8Array;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kennel-model-folders-'));
    archive = await packModelArchive({ 'weights.txt': new TextEncoder().encode('w'), 'code/inference.py': new TextEncoder().encode('') });
  });
  after(() => rm(root, { recursive: true, force: true }));

  const folderNames = async (dir: string) => (await readdir(dir).catch(() => [])).filter((name) => !name.startsWith('.')).sort();
  /** A fresh root per case, with `wanted` deciding which keys a deployment still asks for. */
  const folders = async (name: string, wanted: ReadonlySet<string> = new Set()) => {
    const dir = join(root, name);
    let loads = 0;
    const modelFolders = new ModelFolders(dir, () => wanted);
    const prepare = (key: string) => modelFolders.prepare(key, async () => (loads++, { model: archive }));
    return { dir, modelFolders, prepare, loads: () => loads };
  };

  it('unpacks a content once and shares its folder between the instances that hold it', async () => {
    const { dir, prepare, loads } = await folders('shared');
    const [first, second] = await Promise.all([prepare(KEY_A), prepare(KEY_A)]);
    assert.equal(first.modelDir, join(dir, KEY_A));
    assert.equal(second.modelDir, first.modelDir);
    assert.equal(await readFile(join(first.modelDir, 'weights.txt'), 'utf8'), 'w');
    assert.equal(first.codeDir, join(first.modelDir, 'code'));
    const loaded = loads();
    assert.equal((await prepare(KEY_A)).modelDir, first.modelDir);
    assert.equal(loads(), loaded, 'a folder already unpacked is not unpacked again');
    assert.deepEqual(await folderNames(dir), [KEY_A], 'no half-unpacked folder is left beside it');
  });

  it('removes an unwanted folder when its last holder releases it, not before', async () => {
    const { dir, prepare } = await folders('release');
    const first = await prepare(KEY_A);
    const second = await prepare(KEY_A);
    first.release();
    first.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await folderNames(dir), [KEY_A], 'a second release of the same lease counts once; one holder is left');
    second.release();
    for (let waited = 0; (await folderNames(dir)).length > 0 && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await folderNames(dir), []);
  });

  it('keeps a folder a deployment still wants, and prunes only unheld, unwanted model folders', async () => {
    const { dir, modelFolders, prepare } = await folders('prune', new Set([KEY_A]));
    (await prepare(KEY_A)).release();
    const held = await prepare(KEY_B);
    await mkdir(join(dir, 'instances'), { recursive: true });
    await mkdir(join(dir, 'c'.repeat(64)));
    assert.deepEqual(await modelFolders.prune(), ['c'.repeat(64)]);
    assert.deepEqual(await folderNames(dir), [KEY_A, KEY_B, 'instances'], 'the wanted one, the held one and what is not a model folder stay');
    held.release();
    for (let waited = 0; (await folderNames(dir)).includes(KEY_B) && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await folderNames(dir), [KEY_A, 'instances']);
  });

  it('unpacks afresh a folder asked for while it is being removed', async () => {
    const { dir, modelFolders, prepare } = await folders('again');
    (await prepare(KEY_A)).release();
    const removal = modelFolders.prune();
    const again = await prepare(KEY_A);
    await removal;
    assert.equal(await readFile(join(again.modelDir, 'weights.txt'), 'utf8'), 'w', 'the folder handed out is whole');
    assert.deepEqual(await folderNames(dir), [KEY_A]);
  });

  it('refuses a key that is not a digest, and releases what a failed unpack held', async () => {
    const { dir, modelFolders } = await folders('refused');
    await assert.rejects(modelFolders.prepare('../escape', async () => ({ model: archive })), /not a model folder key/);
    await assert.rejects(modelFolders.prepare(KEY_A, async () => ({ model: new TextEncoder().encode('not gzip') })));
    await mkdir(join(dir, KEY_A));
    assert.deepEqual(await modelFolders.prune(), [KEY_A], 'nothing holds it after the failure');
  });
});
