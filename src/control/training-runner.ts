import { DomainError, describeError } from '../core/errors.ts';
import { SPLITS, type Split } from '../domain/data/dataset.ts';
import { planChannels } from '../domain/training/channels.ts';
import { threadBudget } from '../domain/training/instance-types.ts';
import {
  withTransition,
  type SecondaryStatus,
  type TrainingJob,
  type TrainingJobArtifacts,
} from '../domain/training/training-job.ts';
import { scanDataTree } from '../runtime/datasets/scan.ts';
import { embedImages } from '../runtime/images/embedder.ts';
import { buildHeadInferenceModel } from '../runtime/onnx/head-model.ts';
import { evaluateHead, trainHead } from '../runtime/training/head-trainer.ts';
import { openStoredBackbone } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import { labelsDocument } from './labels.ts';
import { buildModelPackage } from './model-package.ts';
import { childUri, writeObject } from './object-locations.ts';
import { trainingDataTree } from './training-data.ts';

interface SplitData {
  features: Float32Array;
  labels: Int32Array;
}

/** Thrown inside a run whose signal was aborted, to unwind it without recording anything more. */
const ABORTED = Symbol('run aborted');

/**
 * Runs one training job of the built-in image classifier from its recorded
 * desired state to a terminal status: read the channels, embed every image once
 * through the frozen backbone (cached by content), train the head, evaluate it
 * on the test split, and write model.tar.gz to the output path. A stop request
 * (StopTrainingJob or MaxRuntimeInSeconds) ends it after the current batch or
 * epoch, keeping the model trained so far. Running it again after a crash starts
 * the job over; cached embeddings make that cheap.
 *
 * `signal` aborts the run (Kennel is shutting down, or gave up waiting for it to
 * stop): it returns at its next check and records nothing more, so what the store
 * says stays what the controller decided.
 */
export async function runTrainingJob(deps: ControlDeps, jobName: string, signal: AbortSignal): Promise<void> {
  const { store, clock, events, logger } = deps;
  const enter = (status: SecondaryStatus, message: string, patch: Partial<TrainingJob> = {}) => {
    if (signal.aborted) throw ABORTED;
    const now = clock.now();
    return store.trainingJobs.modify(jobName, (job) => ({
      ...job,
      ...patch,
      secondaryStatus: status,
      secondaryStatusTransitions: withTransition(job.secondaryStatusTransitions, status, message, now),
      lastModifiedAtMs: now,
    }));
  };
  const stopRequested = () => signal.aborted || store.trainingJobs.get(jobName)?.stopRequest !== undefined;
  try {
    const previous = store.trainingJobs.get(jobName)!;
    // A run cut short by a restart counts toward the job's runtime for as long as it was seen working.
    const priorRunMs =
      previous.startedAtMs === undefined ? previous.priorRunMs : (previous.priorRunMs ?? 0) + Math.max(0, previous.lastModifiedAtMs - previous.startedAtMs);
    if (previous.startedAtMs !== undefined) enter('Restarting', 'Kennel restarted while the job ran: running it again, from cached embeddings');
    let job = enter('Downloading', 'Reading the input channels', {
      epochs: [],
      embeddingStats: undefined,
      failureReason: undefined,
      startedAtMs: clock.now(),
      priorRunMs,
    });
    const threads = threadBudget(job.spec.instanceType, deps.cores);
    const { data } = planChannels(job.spec.channels);
    const scan = await scanDataTree(await trainingDataTree(deps, data), { decodeImages: false });
    const errors = scan.report.problems.filter((problem) => problem.severity === 'error');
    if (errors.length > 0) {
      throw new DomainError('ValidationError', `The input data in ${scan.path} is not usable: ${errors.map((problem) => problem.message).join('; ')}`);
    }
    const classes = scan.report.classes.map((entry) => entry.folder);
    job = enter('Training', `Computing backbone embeddings of ${scan.images.length} images (each image once; cached by content)`, { classes });

    const splits = await embedSplits(deps, job, scan.images, threads, stopRequested);
    if (signal.aborted) throw ABORTED;
    if (!splits) return finishStopped(deps, jobName);
    enter('Training', `Training the head for ${job.spec.head.epochs} epochs`);
    const trained = await trainHead({
      train: splits.train,
      validation: splits.valid,
      featureSize: job.spec.backbone.featureSize,
      classCount: classes.length,
      hyperParameters: job.spec.head,
      intraOpNumThreads: threads,
      onEpoch: (metrics) => {
        if (signal.aborted) return;
        store.trainingJobs.appendEpoch(jobName, metrics, clock.now());
        events.emit({ kind: 'training-epoch', jobName, metrics, epochs: job.spec.head.epochs });
      },
      shouldStop: stopRequested,
    });
    if (signal.aborted) throw ABORTED;
    if (trained.epochs.length === 0) return finishStopped(deps, jobName);

    const test = await evaluateHead(trained.weights, splits.test, { intraOpNumThreads: threads });
    job = enter('Uploading', 'Writing model.tar.gz to the output path');
    const finalMetrics = { testLoss: test.loss, testAccuracy: test.accuracy };
    const labels = labelsDocument(classes);
    const headModel = buildHeadInferenceModel(trained.weights);
    const metrics = { epochs: job.epochs, final: finalMetrics };
    const archive = await buildModelPackage(
      { backbone: job.spec.backbone, headModel, labels, metrics, trainingJobName: jobName },
      clock.now(),
    );
    const artifacts: TrainingJobArtifacts = {
      headModel: await deps.artifacts.put(headModel),
      labels: await deps.artifacts.put(jsonBytes(labels)),
      metrics: await deps.artifacts.put(jsonBytes(metrics)),
      modelArchive: await deps.artifacts.put(archive),
    };
    const modelArtifactsUri = childUri(job.spec.outputPath, jobName, 'output', 'model.tar.gz');
    await writeObject(deps, modelArtifactsUri, archive, 'application/gzip');

    const stop = store.trainingJobs.get(jobName)?.stopRequest;
    const ending = stop ? (stop.reason === 'MaxRuntimeExceeded' ? 'MaxRuntimeExceeded' : 'Stopped') : 'Completed';
    enter(ending, endMessage(ending, trained.epochs.length, job.spec.head.epochs), {
      status: stop ? 'Stopped' : 'Completed',
      finalMetrics,
      artifacts,
      modelArtifactsUri,
      endedAtMs: clock.now(),
    });
    logger.info('training job ended', { jobName, status: ending, testAccuracy: test.accuracy, testLoss: test.loss });
  } catch (error) {
    if (error === ABORTED || signal.aborted) {
      logger.info('training run abandoned', { jobName });
      return;
    }
    const reason = failureReason(error);
    if (!(error instanceof DomainError)) logger.error('training job failed', { jobName, error: String(error) });
    try {
      enter('Failed', reason, { status: 'Failed', failureReason: reason, endedAtMs: clock.now() });
    } catch (recordError) {
      // The store is gone (shutdown): the job stays InProgress and reruns at the next start.
      logger.warn('could not record a training failure', { jobName, error: describeError(recordError) });
    }
  }
}

/** Embeds every split; undefined when a stop was requested meanwhile (checked between batches). */
async function embedSplits(
  deps: ControlDeps,
  job: TrainingJob,
  images: readonly { path: string; name: string; classIndex: number; split: Split }[],
  threads: number,
  stopRequested: () => boolean,
): Promise<Record<Split, SplitData> | undefined> {
  const extractor = await openStoredBackbone(deps, job.spec.backbone, threads);
  try {
    const total = images.length;
    let done = 0;
    const stats = { computed: 0, cached: 0 };
    const result = {} as Record<Split, SplitData>;
    for (const split of SPLITS) {
      const splitImages = images.filter((image) => image.split === split);
      if (splitImages.length === 0) {
        throw new DomainError('ValidationError', `The input data has no usable images in its ${split} split`);
      }
      const embedded = await embedImages({
        images: splitImages.map((image) => ({ path: image.path, name: image.name })),
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
      done += splitImages.length;
      stats.computed += embedded.computed;
      stats.cached += embedded.cached;
      result[split] = { features: embedded.features, labels: Int32Array.from(splitImages, (image) => image.classIndex) };
    }
    deps.store.trainingJobs.update(job.name, { embeddingStats: stats });
    return result;
  } finally {
    await extractor.close();
  }
}

/** Thrown from the embedding progress callback to abandon the remaining batches. */
const STOP = Symbol('stop requested');

/** A stop before any epoch finished: nothing to keep. */
function finishStopped(deps: ControlDeps, jobName: string): void {
  const now = deps.clock.now();
  deps.store.trainingJobs.modify(jobName, (job) => {
    const status = job.stopRequest?.reason === 'MaxRuntimeExceeded' ? 'MaxRuntimeExceeded' : 'Stopped';
    return {
      ...job,
      status: 'Stopped',
      secondaryStatus: status,
      secondaryStatusTransitions: withTransition(job.secondaryStatusTransitions, status, endMessage(status, 0, job.spec.head.epochs), now),
      endedAtMs: now,
      lastModifiedAtMs: now,
    };
  });
}

function endMessage(status: SecondaryStatus, epochsDone: number, epochs: number): string {
  const kept = epochsDone > 0 ? `; the model after ${epochsDone} of ${epochs} epochs was saved` : '; no epoch had finished, so there is no model';
  if (status === 'Completed') return 'Training job completed';
  if (status === 'MaxRuntimeExceeded') return `Stopped at StoppingCondition.MaxRuntimeInSeconds${kept}`;
  return `Stopped on request${kept}`;
}

/**
 * SageMaker prefixes failure reasons with who is to blame: ClientError for the
 * request or its data, AlgorithmError for the algorithm itself.
 */
function failureReason(error: unknown): string {
  const blame = error instanceof DomainError && ['ValidationError', 'NotFound', 'Conflict'].includes(error.code) ? 'ClientError' : 'AlgorithmError';
  return `${blame}: ${describeError(error)}`;
}

function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2));
}
