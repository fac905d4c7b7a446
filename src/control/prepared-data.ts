import { SPLITS, type Split } from '../domain/data/dataset.ts';
import type { EmbeddingStats } from '../domain/training/training-job.ts';
import type { ArtifactStore } from '../store/artifacts.ts';
import { decodeBundle, encodeBundle } from '../runtime/training/tensor-bundle.ts';
import type { LabelledFeatures } from '../runtime/training/head-trainer.ts';

/** What the image classifier trains on: every split's embedded images, and their classes. */
export interface ImageClassifierData {
  classes: string[];
  splits: Record<Split, LabelledFeatures>;
  /** Identifies the images (by content, in order) and their labels: a checkpoint is only resumed on the same data. */
  fingerprint: string;
  embeddingStats?: EmbeddingStats;
}

interface Header {
  classes: string[];
  fingerprint: string;
}

/** Bundles kept in memory at once: a tuning job's data at the reference size is ~70 MB. */
const KEPT = 2;

/**
 * A tuning job's embedded images, computed once and shared by every trial. They
 * are stored as an artifact (so trials after a restart find them) and kept in
 * memory in SharedArrayBuffers, which the trainer workers read without a copy:
 * a trial reads no image, hashes no image and runs no backbone.
 */
export class PreparedDataCache {
  private readonly loaded = new Map<string, Promise<ImageClassifierData>>();

  constructor(private readonly artifacts: ArtifactStore) {}

  async save(data: ImageClassifierData): Promise<string> {
    const arrays = Object.fromEntries(
      SPLITS.flatMap((split) => [
        [`${split}.features`, data.splits[split].features],
        [`${split}.labels`, Int32Array.from(data.splits[split].labels)],
      ]),
    );
    const bytes = encodeBundle<Header>({ classes: data.classes, fingerprint: data.fingerprint }, arrays);
    const digest = await this.artifacts.put(bytes);
    this.remember(digest, Promise.resolve(this.decode(bytes, digest)));
    return digest;
  }

  load(digest: string): Promise<ImageClassifierData> {
    const known = this.loaded.get(digest);
    if (known) return known;
    const loading = this.artifacts.get(digest).then((bytes) => this.decode(bytes, digest));
    this.remember(digest, loading);
    loading.catch(() => this.loaded.delete(digest));
    return loading;
  }

  private decode(bytes: Uint8Array, digest: string): ImageClassifierData {
    const { header, arrays } = decodeBundle<Header>(bytes, `The embedded data sha256:${digest}`, { shared: true });
    const splits = Object.fromEntries(
      SPLITS.map((split) => [split, { features: arrays[`${split}.features`] as Float32Array, labels: arrays[`${split}.labels`] as Int32Array }]),
    ) as unknown as ImageClassifierData['splits'];
    return { classes: header.classes, fingerprint: header.fingerprint, splits };
  }

  private remember(digest: string, data: Promise<ImageClassifierData>): void {
    this.loaded.delete(digest);
    this.loaded.set(digest, data);
    while (this.loaded.size > KEPT) this.loaded.delete(this.loaded.keys().next().value!);
  }
}
