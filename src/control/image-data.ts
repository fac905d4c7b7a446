import { createHash } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import { SPLITS } from '../domain/data/dataset.ts';
import { planChannels } from '../domain/training/channels.ts';
import type { ImageClassifierJob } from '../domain/training/training-job.ts';
import { scanDataTree } from '../runtime/datasets/scan.ts';
import { embedImages } from '../runtime/images/embedder.ts';
import { openStoredBackbone } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import type { ImageClassifierData } from './prepared-data.ts';
import { trainingDataTree } from './training-data.ts';

/** Thrown from the embedding progress callback to abandon the remaining batches. */
const STOP = Symbol('stop requested');

/**
 * Reads the job's channels and embeds every image once through the frozen
 * backbone, which runs in a worker thread; vectors already in the embedding
 * cache are not computed again. Undefined when a stop was asked for meanwhile
 * (checked between batches).
 */
export async function embedChannels(
  deps: ControlDeps,
  job: ImageClassifierJob,
  threads: number,
  stopRequested: () => boolean,
  onScanned: (imageCount: number) => void,
): Promise<ImageClassifierData | undefined> {
  const { data } = planChannels(job.spec.channels);
  const scan = await scanDataTree(await trainingDataTree(deps, data), { decodeImages: false });
  const errors = scan.report.problems.filter((problem) => problem.severity === 'error');
  if (errors.length > 0) {
    throw new DomainError('ValidationError', `The input data in ${scan.path} is not usable: ${errors.map((problem) => problem.message).join('; ')}`);
  }
  const classes = scan.report.classes.map((entry) => entry.folder);
  onScanned(scan.images.length);
  const extractor = await openStoredBackbone(deps, job.spec.backbone, threads);
  try {
    const total = scan.images.length;
    let done = 0;
    const embeddingStats = { computed: 0, cached: 0 };
    const fingerprint = createHash('sha256').update(JSON.stringify(classes));
    const splits = {} as ImageClassifierData['splits'];
    for (const split of SPLITS) {
      const images = scan.images.filter((image) => image.split === split);
      if (images.length === 0) throw new DomainError('ValidationError', `The input data has no usable images in its ${split} split`);
      const embedded = await embedImages({
        images: images.map((image) => ({ path: image.path, name: image.name })),
        extractor,
        cache: deps.store.embeddings,
        onProgress: (splitDone) => {
          if (stopRequested()) throw STOP;
          deps.events.emit({ kind: 'training-progress', jobName: job.name, step: 'embedding', done: done + splitDone, total });
        },
      }).catch((error: unknown) => {
        if (error === STOP) return undefined;
        throw error;
      });
      if (!embedded) return undefined;
      done += images.length;
      embeddingStats.computed += embedded.computed;
      embeddingStats.cached += embedded.cached;
      const labels = Int32Array.from(images, (image) => image.classIndex);
      splits[split] = { features: embedded.features, labels };
      fingerprint.update(`${split}\n${embedded.digests.join('\n')}\n${labels.join(',')}\n`);
    }
    return { classes, splits, fingerprint: fingerprint.digest('hex'), embeddingStats };
  } finally {
    await extractor.close();
  }
}
