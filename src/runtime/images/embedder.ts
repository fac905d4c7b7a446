import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { mapWithConcurrency } from '../../core/concurrency.ts';
import { DomainError, describeError, isDomainError } from '../../core/errors.ts';
import type { BackboneRef, Preprocessing } from '../../domain/training/training-job.ts';
import type { EmbeddingCache } from '../../store/store.ts';
import type { FeatureExtractor } from './feature-extractor.ts';
import { PREPROCESSING_VERSION, preprocessBatch, tensorSize } from './preprocess.ts';

/** An image to embed: a file (`name` says what it is in messages, e.g. its s3:// URI), or bytes. */
export type ImageSource = { path: string; name?: string } | { bytes: Uint8Array };

export interface EmbedImagesOptions {
  images: readonly ImageSource[];
  extractor: FeatureExtractor;
  cache: EmbeddingCache;
  /** Images per extract call. */
  batchSize?: number;
  /** Input images whose features are known so far, of all input images. */
  onProgress?: (done: number, total: number) => void;
}

export interface EmbeddedImages {
  /** images.length × featureSize floats, in input order. */
  features: Float32Array;
  /** Distinct image contents run through the extractor by this call. */
  computed: number;
  /** Distinct image contents found in the cache. computed + cached = distinct contents. */
  cached: number;
  /** The content digest of each input image, in input order: what the features were computed from. */
  digests: string[];
}

const DEFAULT_BATCH_SIZE = 32;

/** Files read and hashed at once: enough to overlap disk and hashing, bounded for memory. */
const HASH_CONCURRENCY = 16;

/**
 * Preprocessing settings and pipeline version as one digest. Keys are written
 * in a fixed order so equal settings always give the same digest.
 */
export function preprocessingDigest(p: Preprocessing): string {
  const canonical = JSON.stringify([PREPROCESSING_VERSION, p.resizeSize, p.cropSize, p.mean, p.std, p.layout]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Names what a cached vector depends on besides the image: the backbone's
 * weights, which of its outputs is the feature vector, and the preprocessing.
 */
export function embeddingKey(backbone: BackboneRef): string {
  return `${backbone.digest}/${backbone.outputName}/${preprocessingDigest(backbone.preprocessing)}`;
}

export function contentDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Backbone features for a set of images, computed once per image content: a
 * vector in the cache is reused, identical files are embedded once, and only
 * the rest goes through the extractor, in batches, with the next batch decoded
 * while the current one runs. New vectors are cached batch by batch, so an
 * interrupted run keeps what it finished.
 */
export async function embedImages(options: EmbedImagesOptions): Promise<EmbeddedImages> {
  const { images, extractor, cache } = options;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DomainError('ValidationError', `batchSize must be a positive integer, got ${batchSize}`, {
      field: 'batchSize',
    });
  }
  const { featureSize, preprocessing } = extractor.backbone;
  const key = embeddingKey(extractor.backbone);

  // Image bytes are not kept after hashing: a real dataset does not fit in memory.
  const digests = await mapWithConcurrency(images, HASH_CONCURRENCY, async (image, i) =>
    contentDigest(await readSource(image, i)),
  );
  const inputsByDigest = new Map<string, number[]>();
  digests.forEach((digest, i) => {
    const inputs = inputsByDigest.get(digest);
    if (inputs) inputs.push(i);
    else inputsByDigest.set(digest, [i]);
  });

  const features = new Float32Array(images.length * featureSize);
  let done = 0;
  const place = (digest: string, vector: Float32Array) => {
    if (vector.length !== featureSize) {
      throw new DomainError('Internal', `embedding of ${vector.length} floats where the backbone gives ${featureSize}`);
    }
    for (const i of inputsByDigest.get(digest) ?? []) {
      features.set(vector, i * featureSize);
      done++;
    }
  };

  const hits = cache.getMany(key, [...inputsByDigest.keys()]);
  for (const [digest, vector] of hits) place(digest, vector);
  options.onProgress?.(done, images.length);

  const misses = [...inputsByDigest.keys()].filter((digest) => !hits.has(digest));
  const batches: string[][] = [];
  for (let start = 0; start < misses.length; start += batchSize) batches.push(misses.slice(start, start + batchSize));

  // Two input buffers: one is read by the extractor while the other is filled.
  const size = tensorSize(preprocessing);
  const buffers = [0, 1].map(() => new Float32Array(Math.min(batchSize, misses.length) * size));
  const prepare = async (b: number): Promise<Float32Array> => {
    const sources = batches[b].map((digest) => inputsByDigest.get(digest)![0]);
    const bytes = await Promise.all(sources.map((i) => readSource(images[i], i)));
    try {
      return await preprocessBatch(bytes, preprocessing, buffers[b % 2].subarray(0, bytes.length * size));
    } catch (error) {
      if (!isDomainError(error) || typeof error.details.batchIndex !== 'number') throw error;
      const i = sources[error.details.batchIndex];
      throw new DomainError(error.code, `${describeSource(images[i], i)}: ${error.message}`, error.details);
    }
  };

  let current = batches.length > 0 ? prepare(0) : undefined;
  for (let b = 0; current; b++) {
    const input = await current;
    const upcoming = b + 1 < batches.length ? prepare(b + 1) : undefined;
    // If the extractor fails first, the next batch's rejection must not go
    // unhandled (it would crash the process); awaiting it later still sees it.
    upcoming?.catch(() => {});
    const batch = batches[b];
    const output = await extractor.extract(input, batch.length);
    if (output.length !== batch.length * featureSize) {
      throw new DomainError(
        'Internal',
        `extractor returned ${output.length} floats for ${batch.length} images of ${featureSize} features`,
      );
    }
    const fresh = new Map<string, Float32Array>();
    batch.forEach((digest, j) => {
      // A copy: the extractor may reuse its output buffer for the next batch.
      const vector = output.slice(j * featureSize, (j + 1) * featureSize);
      fresh.set(digest, vector);
      place(digest, vector);
    });
    cache.putMany(key, fresh);
    options.onProgress?.(done, images.length);
    current = upcoming;
  }

  return { features, computed: misses.length, cached: hits.size, digests };
}

function describeSource(image: ImageSource, index: number): string {
  return 'path' in image ? (image.name ?? image.path) : `image ${index}`;
}

async function readSource(image: ImageSource, index: number): Promise<Uint8Array> {
  if ('bytes' in image) return image.bytes;
  try {
    return await readFile(image.path);
  } catch (error) {
    const message = `${describeSource(image, index)} cannot be read (${describeError(error)})`;
    throw new DomainError('ValidationError', message);
  }
}
