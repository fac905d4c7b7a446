import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { isDomainError } from '../../core/errors.ts';
import type { BackboneRef, Preprocessing } from '../../domain/training/training-job.ts';
import type { EmbeddingCache } from '../../store/store.ts';
import { contentDigest, embedImages, embeddingKey, type ImageSource } from './embedder.ts';
import type { FeatureExtractor } from './feature-extractor.ts';
import { preprocessImage, tensorSize } from './preprocess.ts';

const PREPROCESSING: Preprocessing = {
  resizeSize: 8,
  cropSize: 8,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  layout: 'NCHW',
};
const FEATURES = 4;

class MemoryEmbeddingCache implements EmbeddingCache {
  readonly vectors = new Map<string, Map<string, Float32Array>>();

  getMany(embeddingKey: string, imageDigests: readonly string[]): Map<string, Float32Array> {
    const stored = this.vectors.get(embeddingKey);
    const found = new Map<string, Float32Array>();
    for (const digest of imageDigests) {
      const vector = stored?.get(digest);
      if (vector) found.set(digest, vector.slice());
    }
    return found;
  }

  putMany(embeddingKey: string, entries: ReadonlyMap<string, Float32Array>): void {
    const stored = this.vectors.get(embeddingKey) ?? new Map<string, Float32Array>();
    for (const [digest, vector] of entries) stored.set(digest, vector.slice());
    this.vectors.set(embeddingKey, stored);
  }

  count(embeddingKey: string): number {
    return this.vectors.get(embeddingKey)?.size ?? 0;
  }
}

/**
 * Features that depend only on the image: the mean of each channel plane and
 * of the whole tensor. Records every call, and returns its result in one reused
 * buffer as a real session may.
 */
class CountingExtractor implements FeatureExtractor {
  readonly calls: number[] = [];
  readonly backbone: BackboneRef;
  private output = new Float32Array(0);

  constructor(digest = 'a'.repeat(64), preprocessing = PREPROCESSING, outputName = 'features') {
    this.backbone = { digest, inputName: 'input', outputName, featureSize: FEATURES, preprocessing };
  }

  static features(tensor: Float32Array): number[] {
    const plane = tensor.length / 3;
    const mean = (values: Float32Array) => values.reduce((sum, v) => sum + v, 0) / values.length;
    return [0, 1, 2].map((c) => mean(tensor.subarray(c * plane, (c + 1) * plane))).concat(mean(tensor));
  }

  async extract(input: Float32Array, batchSize: number): Promise<Float32Array> {
    this.calls.push(batchSize);
    const size = tensorSize(this.backbone.preprocessing);
    assert.equal(input.length, batchSize * size);
    if (this.output.length < batchSize * FEATURES) this.output = new Float32Array(batchSize * FEATURES);
    for (let i = 0; i < batchSize; i++) {
      this.output.set(CountingExtractor.features(input.subarray(i * size, (i + 1) * size)), i * FEATURES);
    }
    return this.output.subarray(0, batchSize * FEATURES);
  }

  get imagesExtracted(): number {
    return this.calls.reduce((sum, n) => sum + n, 0);
  }

  async close(): Promise<void> {}
}

async function coloured(r: number, g: number, b: number): Promise<Uint8Array> {
  return sharp({ create: { width: 12, height: 10, channels: 3, background: { r, g, b } } }).png().toBuffer();
}

async function expectedFeatures(bytes: Uint8Array): Promise<number[]> {
  return Array.from(Float32Array.from(CountingExtractor.features(await preprocessImage(bytes, PREPROCESSING))));
}

function rows(features: Float32Array): number[][] {
  return Array.from({ length: features.length / FEATURES }, (_, i) =>
    Array.from(features.subarray(i * FEATURES, (i + 1) * FEATURES)),
  );
}

test('embeds once per content: cached on the second call, duplicates share one extraction', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kennel-embed-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const colours = await Promise.all([
    coloured(255, 0, 0),
    coloured(0, 255, 0),
    coloured(0, 0, 255),
    coloured(90, 90, 90),
  ]);
  const files = ['red.png', 'green.png', 'blue.png', 'grey.png', 'red-copy.png'];
  const contents = [colours[0], colours[1], colours[2], colours[3], colours[0]];
  await Promise.all(files.map((name, i) => writeFile(join(dir, name), contents[i])));
  const images = files.map((name) => ({ path: join(dir, name) }));
  const cache = new MemoryEmbeddingCache();

  const extractor = new CountingExtractor();
  const progress: [number, number][] = [];
  const onProgress = (done: number, total: number) => progress.push([done, total]);
  const first = await embedImages({ images, extractor, cache, batchSize: 3, onProgress });
  assert.deepEqual(extractor.calls, [3, 1], 'four distinct contents in batches of at most 3');
  assert.equal(first.computed, 4);
  assert.equal(first.cached, 0);
  assert.equal(cache.count(embeddingKey(extractor.backbone)), 4);
  const expected = await Promise.all(contents.map(expectedFeatures));
  assert.deepEqual(rows(first.features), expected, 'input order, copies included');
  assert.deepEqual(progress.at(-1), [5, 5]);
  assert.deepEqual(first.digests, contents.map(contentDigest), 'the content digest of each input, copies included');
  assert.ok(progress.every(([done], i) => i === 0 || done >= progress[i - 1][0]), 'progress never goes back');

  const again = new CountingExtractor();
  const second = await embedImages({ images, extractor: again, cache, batchSize: 3 });
  assert.deepEqual(again.calls, [], 'no extract call when everything is cached');
  assert.equal(second.computed, 0);
  assert.equal(second.cached, 4);
  assert.deepEqual(second.features, first.features, 'cached and computed features are identical');
});

test('a partly cached set extracts only the missing images', async () => {
  const cache = new MemoryEmbeddingCache();
  const known = await Promise.all([coloured(10, 20, 30), coloured(40, 50, 60)]);
  const fresh = await Promise.all([coloured(70, 80, 90), coloured(100, 110, 120), coloured(130, 140, 150)]);
  await embedImages({ images: known.map((bytes) => ({ bytes })), extractor: new CountingExtractor(), cache });

  const extractor = new CountingExtractor();
  const mixed = [fresh[0], known[1], fresh[1], known[0], fresh[2]];
  const all: ImageSource[] = mixed.map((bytes) => ({ bytes }));
  const result = await embedImages({ images: all, extractor, cache, batchSize: 2 });
  assert.equal(extractor.imagesExtracted, 3);
  assert.deepEqual(extractor.calls, [2, 1]);
  assert.equal(result.computed, 3);
  assert.equal(result.cached, 2);
  assert.deepEqual(rows(result.features), await Promise.all(mixed.map(expectedFeatures)));
});

test('another backbone, output or preprocessing does not reuse cached vectors', async () => {
  const cache = new MemoryEmbeddingCache();
  const images = [{ bytes: await coloured(1, 2, 3) }];
  await embedImages({ images, extractor: new CountingExtractor(), cache });

  const otherBackbone = new CountingExtractor('b'.repeat(64));
  await embedImages({ images, extractor: otherBackbone, cache });
  assert.deepEqual(otherBackbone.calls, [1]);

  const otherPreprocessing = new CountingExtractor('a'.repeat(64), { ...PREPROCESSING, mean: [0.4, 0.5, 0.5] });
  await embedImages({ images, extractor: otherPreprocessing, cache });
  assert.deepEqual(otherPreprocessing.calls, [1]);

  const otherOutput = new CountingExtractor('a'.repeat(64), PREPROCESSING, 'pooled');
  await embedImages({ images, extractor: otherOutput, cache });
  assert.deepEqual(otherOutput.calls, [1]);

  const same = new CountingExtractor('a'.repeat(64), { ...PREPROCESSING });
  await embedImages({ images, extractor: same, cache });
  assert.deepEqual(same.calls, [], 'equal settings give the same key');
  assert.equal(cache.vectors.size, 4);
});

test('the batch being extracted is not overwritten while the next one is prepared', async () => {
  const images = await Promise.all(Array.from({ length: 6 }, (_, i) => coloured(40 * i, 0, 0)));
  const seenIntact: boolean[] = [];
  const extractor = new CountingExtractor();
  const extract = extractor.extract.bind(extractor);
  extractor.extract = async (input, batchSize) => {
    const snapshot = input.slice();
    // Gives the next batch's decoding time to run (and, if it shared this buffer, to clobber it).
    await new Promise((resolve) => setTimeout(resolve, 30));
    seenIntact.push(input.every((v, i) => v === snapshot[i]));
    return extract(input, batchSize);
  };
  const result = await embedImages({
    images: images.map((bytes) => ({ bytes })),
    extractor,
    cache: new MemoryEmbeddingCache(),
    batchSize: 2,
  });
  assert.deepEqual(seenIntact, [true, true, true]);
  assert.deepEqual(rows(result.features), await Promise.all(images.map(expectedFeatures)));
});

test('nothing to embed: no extract call, empty features', async () => {
  const extractor = new CountingExtractor();
  const result = await embedImages({ images: [], extractor, cache: new MemoryEmbeddingCache() });
  assert.deepEqual(result, { features: new Float32Array(0), computed: 0, cached: 0, digests: [] });
  assert.deepEqual(extractor.calls, []);
});

test('an undecodable image fails the call and names the file; earlier batches stay cached', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kennel-embed-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'good.png'), await coloured(1, 1, 1));
  await writeFile(join(dir, 'bad.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2, 3]));
  const cache = new MemoryEmbeddingCache();
  const extractor = new CountingExtractor();
  const images = [{ path: join(dir, 'good.png') }, { path: join(dir, 'bad.jpg') }];
  await assert.rejects(
    embedImages({ images, extractor, cache, batchSize: 1 }),
    (error) =>
      isDomainError(error) &&
      error.code === 'ModelError' &&
      error.message.startsWith(`${join(dir, 'bad.jpg')}: could not decode image`),
  );
  assert.equal(cache.count(embeddingKey(extractor.backbone)), 1);

  await assert.rejects(
    embedImages({ images: [{ path: join(dir, 'missing.png') }], extractor, cache }),
    (error) =>
      isDomainError(error) && error.code === 'ValidationError' && /missing\.png cannot be read/.test(error.message),
  );
});
