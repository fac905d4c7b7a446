import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createArtifactStore } from './artifacts.ts';
import { removeLeftovers } from './leftovers.ts';
import { openStateDir, type StateDir } from './state-dir.ts';

/** Every file and folder under `dir`, relative to it, sorted. */
async function tree(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    found.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return found.sort();
}

async function writeIn(dir: string, name: string, text = 'x'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('removeLeftovers', () => {
  let dirs: StateDir;
  beforeEach(async () => {
    dirs = await openStateDir(await mkdtemp(join(tmpdir(), 'kennel-leftovers-')));
  });
  afterEach(async () => rm(dirs.home, { recursive: true, force: true }));

  it('removes exactly what a killed server leaves behind', async () => {
    // What must survive: finished work and files that merely look similar.
    const digest = await createArtifactStore(dirs.artifactsDir).put(new TextEncoder().encode('a model'));
    await writeIn(join(dirs.samplesDir, 'images', 'train', '001.Cat'), 'Cat_00001.jpg');
    await writeIn(join(dirs.samplesDir, 'images'), 'kennel-sample.json', '{}');
    await mkdir(join(dirs.samplesDir, `images.partial-${randomUUID()}`));
    await mkdir(join(dirs.samplesDir, '.images.partial-not-a-uuid'));
    await writeIn(dirs.samplesDir, `.images.partial-${randomUUID()}.txt`);
    await writeIn(dirs.home, 'credentials', '[kennel]\n');
    await writeIn(dirs.home, 'credentials.bak');
    await writeIn(dirs.home, 'credentials.tmp');
    await writeIn(dirs.home, 'kennel.db');
    await writeIn(dirs.home, 'other.123.tmp');
    await writeIn(dirs.checkpointsDir, 'job-1.ckpt');
    await writeIn(dirs.checkpointsDir, 'job-1.ckpt.tmp');
    await writeIn(dirs.tracesDir, 'job-1.jsonl');
    const unpacked = 'e'.repeat(64);
    await writeIn(join(dirs.functionCodeDir, unpacked), 'index.mjs');
    await writeIn(join(dirs.functionCodeDir, `${unpacked}.unpacking-notapid`), 'index.mjs');
    await writeIn(join(dirs.servingDir, `${unpacked}-${'a'.repeat(64)}`, 'code'), 'inference.py');
    const before = await tree(dirs.home);

    // What a kill -9 leaves: temp artifacts, staged sample sets, a credentials write.
    const leftovers = [
      await writeIn(join(dirs.artifactsDir, 'tmp'), `${'ab12'.repeat(6)}.tmp`),
      await writeIn(join(dirs.artifactsDir, 'tmp'), `${'cd34'.repeat(6)}.tmp`),
      join(dirs.samplesDir, `.images.partial-${randomUUID()}`),
      join(dirs.samplesDir, `.images.partial-${randomUUID()}.old`),
      await writeIn(dirs.home, 'credentials.4242.tmp'),
      await writeIn(dirs.checkpointsDir, 'job-1.ckpt.0123456789ab.tmp'),
      await writeIn(dirs.tracesDir, 'job-1.jsonl.0123456789ab.tmp'),
      join(dirs.sandboxesDir, 'classify-a1b2c3'),
      join(dirs.functionCodeDir, `${'f'.repeat(64)}.unpacking-a1B2c3`),
      join(dirs.servingDir, 'instances'),
      join(dirs.servingDir, `.unpacking-${'e'.repeat(64)}-${'a'.repeat(64)}-Zx81qa`),
    ];
    await writeIn(leftovers[7]!, 'scratch.bin');
    await writeIn(leftovers[8]!, 'index.mjs');
    await writeIn(join(leftovers[9]!, randomUUID()), 'pip.log');
    await writeIn(join(leftovers[10]!, 'code'), 'inference.py');
    for (const folder of leftovers.slice(2, 4)) await writeIn(join(folder!, 'train', '001.Cat'), 'Cat_00001.jpg');

    const { removed } = await removeLeftovers(dirs);

    assert.deepEqual([...removed].sort(), [...leftovers].sort());
    assert.deepEqual(await tree(dirs.home), before);
    assert.ok(existsSync(join(dirs.artifactsDir, 'sha256', digest.slice(0, 2), digest.slice(2))));
  });

  it('removes nothing from a clean state folder, and copes with no artifacts/tmp', async () => {
    assert.ok(!existsSync(join(dirs.artifactsDir, 'tmp')));
    const before = await tree(dirs.home);
    assert.deepEqual(await removeLeftovers(dirs), { removed: [] });
    assert.deepEqual(await tree(dirs.home), before);
  });
});
