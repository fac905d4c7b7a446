import { DomainError, describeError } from '../core/errors.ts';
import { SPLITS, type Dataset, type Split } from '../domain/data/dataset.ts';
import type { TrainingJob, TrainingJobPhase } from '../domain/training/training-job.ts';
import { scanDataset } from '../runtime/datasets/scan.ts';
import { embedImages } from '../runtime/images/embedder.ts';
import { buildHeadInferenceModel } from '../runtime/onnx/head-model.ts';
import { evaluateHead, trainHead } from '../runtime/training/head-trainer.ts';
import { openStoredBackbone } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import { labelsDocument } from './labels.ts';

interface SplitData {
  features: Float32Array;
  labels: Int32Array;
}

/**
 * Runs one training job of the built-in image-classifier algorithm from its
 * recorded desired state to a terminal status: embed every image once through the
 * frozen backbone (cached by content), train the head, evaluate it on the test
 * split, store model, labels and metrics as artifacts. Running it again after a
 * crash starts the job over; cached embeddings make that cheap.
 */
export async function runTrainingJob(deps: ControlDeps, jobName: string): Promise<void> {
  const { store, clock, events, logger } = deps;
  const setPhase = (phase: TrainingJobPhase) => store.trainingJobs.update(jobName, { phase });
  const stopRequested = () => store.trainingJobs.get(jobName)?.status === 'Stopping';
  try {
    let job = store.trainingJobs.update(jobName, {
      phase: 'Starting',
      epochs: [],
      embeddingStats: undefined,
      failureReason: undefined,
      startedAtMs: clock.now(),
    });
    const dataset = store.datasets.get(job.datasetName);
    if (!dataset) throw new DomainError('NotFound', `Dataset ${job.datasetName} no longer exists`);
    const splits = await embedDataset(deps, job, dataset, setPhase, stopRequested);
    if (!splits) return finishStopped(deps, jobName);
    setPhase('Training');
    const trained = await trainHead({
      train: splits.train,
      validation: splits.valid,
      featureSize: job.backbone.featureSize,
      classCount: dataset.classes.length,
      hyperParameters: job.hyperParameters,
      onEpoch: (metrics) => {
        store.trainingJobs.appendEpoch(jobName, metrics);
        events.emit({ kind: 'training-epoch', jobName, metrics, epochs: job.hyperParameters.epochs });
      },
      shouldStop: stopRequested,
    });
    if (stopRequested()) return finishStopped(deps, jobName);

    setPhase('Evaluating');
    const test = await evaluateHead(trained.weights, splits.test);

    setPhase('Uploading');
    job = store.trainingJobs.get(jobName)!;
    const finalMetrics = { testLoss: test.loss, testAccuracy: test.accuracy };
    const artifacts = {
      headModel: await deps.artifacts.put(buildHeadInferenceModel(trained.weights)),
      labels: await deps.artifacts.put(jsonBytes(labelsDocument(dataset.classes))),
      metrics: await deps.artifacts.put(jsonBytes({ epochs: job.epochs, final: finalMetrics })),
    };
    store.trainingJobs.update(jobName, {
      status: 'Completed',
      phase: 'Completed',
      finalMetrics,
      artifacts,
      endedAtMs: clock.now(),
    });
    logger.info('training job completed', { jobName, testAccuracy: test.accuracy, testLoss: test.loss });
  } catch (error) {
    const reason = describeError(error);
    if (!(error instanceof DomainError)) logger.error('training job failed', { jobName, error: String(error) });
    try {
      store.trainingJobs.update(jobName, { status: 'Failed', phase: 'Failed', failureReason: reason, endedAtMs: clock.now() });
    } catch (recordError) {
      // The store is gone (shutdown): the job stays InProgress and reruns at the next start.
      logger.warn('could not record a training failure', { jobName, error: describeError(recordError) });
    }
  }
}

/** Embeds every split; undefined when a stop was requested meanwhile (checked between batches). */
async function embedDataset(
  deps: ControlDeps,
  job: TrainingJob,
  dataset: Dataset,
  setPhase: (phase: TrainingJobPhase) => void,
  stopRequested: () => boolean,
): Promise<Record<Split, SplitData> | undefined> {
  const scan = await scanDataset(dataset.path, { decodeImages: false });
  const scanned = scan.report.classes.map((entry) => entry.folder);
  if (scanned.join('\n') !== dataset.classes.join('\n')) {
    throw new DomainError(
      'Conflict',
      `The classes in ${dataset.path} changed since dataset ${dataset.name} was registered; register the folder again under a new name`,
    );
  }

  setPhase('Embedding');
  const extractor = await openStoredBackbone(deps, job.backbone);
  try {
    const total = scan.images.length;
    let done = 0;
    const stats = { computed: 0, cached: 0 };
    const result = {} as Record<Split, SplitData>;
    for (const split of SPLITS) {
      const images = scan.images.filter((image) => image.split === split);
      if (images.length === 0) {
        throw new DomainError('ValidationError', `Dataset ${dataset.name} has no usable images in its ${split} split`);
      }
      const embedded = await embedImages({
        images,
        extractor,
        cache: deps.store.embeddings,
        onProgress: (splitDone) => {
          if (stopRequested()) throw STOP;
          deps.events.emit({ kind: 'training-progress', jobName: job.name, phase: 'Embedding', done: done + splitDone, total });
        },
      }).catch((error: unknown) => {
        if (error === STOP) return undefined;
        throw error;
      });
      if (!embedded) return undefined;
      done += images.length;
      stats.computed += embedded.computed;
      stats.cached += embedded.cached;
      result[split] = { features: embedded.features, labels: Int32Array.from(images, (image) => image.classIndex) };
    }
    deps.store.trainingJobs.update(job.name, { embeddingStats: stats });
    return result;
  } finally {
    await extractor.close();
  }
}

/** Thrown from the embedding progress callback to abandon the remaining batches. */
const STOP = Symbol('stop requested');

function finishStopped(deps: ControlDeps, jobName: string): void {
  deps.store.trainingJobs.update(jobName, { status: 'Stopped', phase: 'Stopped', endedAtMs: deps.clock.now() });
}

function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2));
}
