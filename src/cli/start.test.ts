import { classified } from '../testing/serving.ts';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { deploySmallClassifier, startTestKennel } from '../testing/test-kennel.ts';
import { startKennel } from './start.ts';

describe('startKennel', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'kennel-start-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  it('removes the temporary files a killed server left behind, and nothing else', async () => {
    const first = await startKennel({ home, host: '127.0.0.1', port: 0, logger: silentLogger });
    const digest = await first.platform.deps.artifacts.put(new TextEncoder().encode('kept'));
    await first.close();

    // What a kill -9 in the middle of each kind of write leaves.
    const leftovers = [
      join(home, 'artifacts', 'tmp', '0123456789abcdef01234567.tmp'),
      join(home, 'samples', '.images.partial-2b7e1a52-5c1e-4f0a-9d3b-7a2e6c1f9e00', 'train', 'x.jpg'),
      join(home, 'credentials.4242.tmp'),
    ];
    for (const file of leftovers) {
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, 'half-written');
    }

    const second = await startKennel({ home, host: '127.0.0.1', port: 0, logger: silentLogger });
    try {
      for (const file of leftovers) assert.equal(existsSync(file), false, `${file} is still there`);
      assert.equal(existsSync(join(home, 'samples', '.images.partial-2b7e1a52-5c1e-4f0a-9d3b-7a2e6c1f9e00')), false);
      assert.equal(new TextDecoder().decode(await second.platform.deps.artifacts.get(digest)), 'kept');
      assert.ok(existsSync(join(home, 'credentials')));
    } finally {
      await second.close();
    }
  });

  it('returns once the endpoints that were in service serve again', async () => {
    const first = await startTestKennel({ home: join(home, 'serving') });
    await deploySmallClassifier(first);
    await first.close();
    const classDir = join(home, 'serving', 'toy-images', 'test', (await readdir(join(home, 'serving', 'toy-images', 'test')))[0]);
    const jpeg = await readFile(join(classDir, (await readdir(classDir))[0]));

    const second = await startTestKennel({ home: join(home, 'serving') });
    try {
      assert.equal(second.kennel.platform.endpoints.describe('toy').status, 'InService');
      const answer = await second.kennel.platform.endpoints.invoke('toy', { contentType: 'image/jpeg', body: jpeg });
      assert.equal(classified(answer).predictions.length, 4);
    } finally {
      await second.close();
    }
  });
});
