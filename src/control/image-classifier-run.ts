import { createHash } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { TraceEpoch } from '../domain/debugger/trace.ts';
import type { EpochMetrics, ImageClassifierJob, TrainingJobArtifacts } from '../domain/training/training-job.ts';
import { buildHeadInferenceModel } from '../runtime/onnx/head-model.ts';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointFiles, type SavedCheckpoint } from '../runtime/training/checkpoint-files.ts';
import type { TrainerCheckpoint } from '../runtime/training/head-trainer.ts';
import type { ControlDeps } from './deps.ts';
import { embedChannels } from './image-data.ts';
import { JobDebugger } from './job-debugger.ts';
import type { ImageClassifierData } from './prepared-data.ts';
import { labelsDocument } from './labels.ts';
import { buildModelPackage } from './model-package.ts';
import { childUri, readObject, writeObject } from './object-locations.ts';
import { ABORTED, endMessage, stoppedStatus, type RunContext } from './run-context.ts';

/** The checkpoint's name under CheckpointConfig.S3Uri. */
const CHECKPOINT_FILE = 'checkpoint.kennel';
/** A checkpoint of the reference head is ~3.4 MB; this leaves room for wide heads. */
const MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024;

/**
 * The built-in image classifier: embed every image once (see image-data.ts),
 * train the head in a worker thread with a checkpoint after every epoch,
 * evaluate it on the test split, and write model.tar.gz to the output path.
 * A run that finds a checkpoint of the same data and hyperparameters (its own,
 * after a crash, or one at CheckpointConfig.S3Uri) goes on from it.
 */
export async function runImageClassifier(run: RunContext, job: ImageClassifierJob): Promise<void> {
  const { deps, jobName, signal } = run;
  const { store, clock, events, logger } = deps;
  const data = job.spec.preparedDataDigest
    ? await deps.preparedData.load(job.spec.preparedDataDigest)
    : await embedChannels(deps, job, run.threads, run.stopRequested, (count) =>
        run.enter('Training', `Computing backbone embeddings of ${count} images (each image once; cached by content)`),
      );
  if (signal.aborted) throw ABORTED;
  if (!data) return finishStopped(run, 0);

  const fingerprint = checkpointFingerprint(job, data);
  const resume = await findCheckpoint(deps, job, fingerprint);
  const from = resume && 'saved' in resume ? resume.saved.checkpoint : undefined;
  const message =
    from !== undefined
      ? `Training the head, from the checkpoint after epoch ${from.epoch} of ${job.spec.head.epochs}`
      : `Training the head for ${job.spec.head.epochs} epochs${resume && 'damaged' in resume ? ` (${resume.damaged}; starting over)` : ''}`;
  run.enter('Training', message, { classes: data.classes, embeddingStats: data.embeddingStats, epochs: from?.epochs ?? [] });
  run.log.line(`${data.classes.length} classes; ${message}`);

  const debug = await JobDebugger.open(run, job, from ? { step: from.step, epoch: from.epoch } : undefined);
  try {
    await trainAndPackage(run, job, data, fingerprint, from, debug);
  } finally {
    // An abandoned run (shutdown) runs again and records its trace again; any other end is the rules' last look.
    if (signal.aborted) await debug.abandon();
    else await debug.close();
  }
}

async function trainAndPackage(run: RunContext, job: ImageClassifierJob, data: ImageClassifierData, fingerprint: string, from: TrainerCheckpoint | undefined, debug: JobDebugger): Promise<void> {
  const { deps, jobName, signal } = run;
  const { store, clock, events, logger } = deps;
  const stepsPerEpoch = Math.ceil(data.splits.train.labels.length / job.spec.head.batch_size);
  debug.record([{ type: 'classes', classes: { labels: data.classes, samples: classSizes(data.splits.train.labels, data.classes.length) } }]);
  debug.start(process.pid);
  const { steps: recordSteps, saveInterval, saveFirstSteps, saveFirstEvery } = debug.settings;

  // A checkpoint goes down after the trace up to it: a run resumed from it after a kill has the trace it needs.
  const writer = new LatestCheckpointWriter(deps.checkpoints, jobName, fingerprint, logger, () => debug.flush());
  const trained = await deps.trainers.train({
    train: data.splits.train,
    validation: data.splits.valid,
    test: data.splits.test,
    featureSize: job.spec.backbone.featureSize,
    classCount: data.classes.length,
    hyperParameters: job.spec.head,
    intraOpNumThreads: run.threads,
    resumeFrom: from,
    ...(job.spec.preparedDataDigest ? { dataKey: job.spec.preparedDataDigest } : {}),
    ...(recordSteps ? { debug: { ...(saveInterval !== undefined ? { saveInterval } : {}), saveFirstSteps, saveFirstEvery } } : {}),
    // One record write per report, however many epochs it holds: small heads train hundreds of epochs a second.
    onEpochs: (batch, checkpoint, steps) => {
      if (signal.aborted) return;
      debug.record([
        ...(steps ?? []).map((step) => ({ type: 'step' as const, step })),
        ...batch.map((metrics) => ({ type: 'epoch' as const, epoch: traceEpoch(metrics, stepsPerEpoch) })),
      ]);
      store.trainingJobs.appendEpochs(jobName, batch, clock.now());
      for (const metrics of batch) {
        run.log.line(
          `epoch ${metrics.epoch}/${job.spec.head.epochs}: train:loss=${metrics.trainLoss} train:accuracy=${metrics.trainAccuracy} ` +
            `validation:loss=${metrics.validationLoss} validation:accuracy=${metrics.validationAccuracy} (${metrics.seconds.toFixed(2)} s)`,
        );
      }
      events.emit({ kind: 'training-epoch', jobName, metrics: batch.at(-1)!, epochs: job.spec.head.epochs, ...(job.spec.tuningJobName ? { tuningJobName: job.spec.tuningJobName } : {}) });
      writer.save(checkpoint);
    },
    shouldStop: run.stopRequested,
  });
  await writer.flush();
  if (signal.aborted) throw ABORTED;
  // The rules settle before the job does: a job seen ended has its rules' last word.
  await debug.close();
  if (trained.epochs.length === 0 || !trained.test) return finishStopped(run, 0);

  run.log.line(`test:loss=${trained.test.loss} test:accuracy=${trained.test.accuracy}`);
  const missing = store.trainingJobs.get(jobName)!.stopRequest ? undefined : run.log.objectiveNeverReported(job.spec);
  if (missing) {
    await run.end('Failed', missing, { status: 'Failed', failureReason: missing, endedAtMs: clock.now() });
    await deps.checkpoints.remove(jobName);
    return;
  }
  const current = run.enter('Uploading', 'Writing model.tar.gz to the output path');
  const finalMetrics = { testLoss: trained.test.loss, testAccuracy: trained.test.accuracy };
  const labels = labelsDocument(data.classes);
  const headModel = buildHeadInferenceModel(trained.weights);
  const metrics = { epochs: trained.epochs, final: finalMetrics };
  const archive = await buildModelPackage({ backbone: job.spec.backbone, headModel, labels, metrics, trainingJobName: jobName }, clock.now());
  const artifacts: TrainingJobArtifacts = {
    headModel: await deps.artifacts.put(headModel),
    labels: await deps.artifacts.put(jsonBytes(labels)),
    metrics: await deps.artifacts.put(jsonBytes(metrics)),
    modelArchive: await deps.artifacts.put(archive),
  };
  const modelArtifactsUri = childUri(job.spec.outputPath, jobName, 'output', 'model.tar.gz');
  await writeObject(deps, modelArtifactsUri, archive, 'application/gzip');
  if (job.spec.checkpointUri && writer.latest) {
    await writeObject(deps, childUri(job.spec.checkpointUri, CHECKPOINT_FILE), encodeCheckpoint({ checkpoint: writer.latest, fingerprint }));
  }

  const ending = current.stopRequest ? stoppedStatus(current) : 'Completed';
  await run.end(ending, endMessage(ending, trained.epochs.length, job.spec.head.epochs), {
    status: ending === 'Completed' ? 'Completed' : 'Stopped',
    finalMetrics,
    artifacts,
    modelArtifactsUri,
    endedAtMs: clock.now(),
  });
  await deps.checkpoints.remove(jobName);
  logger.info('training job ended', { jobName, status: ending, testAccuracy: trained.test.accuracy, testLoss: trained.test.loss });
}

/** Samples per class, by label index. */
function classSizes(labels: ArrayLike<number>, classCount: number): number[] {
  const sizes = new Array<number>(classCount).fill(0);
  for (let i = 0; i < labels.length; i++) sizes[labels[i]!]!++;
  return sizes;
}

/** An epoch as the trace records it: it ended at its last step. */
function traceEpoch(metrics: EpochMetrics, stepsPerEpoch: number): TraceEpoch {
  return {
    epoch: metrics.epoch,
    step: metrics.epoch * stepsPerEpoch - 1,
    trainLoss: metrics.trainLoss,
    validationLoss: metrics.validationLoss,
    trainAccuracy: metrics.trainAccuracy,
    validationAccuracy: metrics.validationAccuracy,
  };
}

/** A stop before any epoch finished: nothing to keep. */
async function finishStopped(run: RunContext, epochsDone: number): Promise<void> {
  const job = run.deps.store.trainingJobs.get(run.jobName)! as ImageClassifierJob;
  const status = stoppedStatus(job);
  await run.end(status, endMessage(status, epochsDone, job.spec.head.epochs), { status: 'Stopped', endedAtMs: run.deps.clock.now() });
}

/** What a checkpoint must have been trained on to be resumed: the same images, labels, backbone and hyperparameters. */
function checkpointFingerprint(job: ImageClassifierJob, data: ImageClassifierData): string {
  return createHash('sha256').update(JSON.stringify({ data: data.fingerprint, backbone: job.spec.backbone.digest, head: job.spec.head })).digest('hex');
}

/** The job's own checkpoint, else one at CheckpointConfig.S3Uri; only one with the same fingerprint counts. */
async function findCheckpoint(
  deps: ControlDeps,
  job: ImageClassifierJob,
  fingerprint: string,
): Promise<{ saved: SavedCheckpoint } | { damaged: string } | undefined> {
  const local = await deps.checkpoints.load(job.name);
  if (local && 'damaged' in local) return local;
  if (local && local.fingerprint === fingerprint) return { saved: local };
  if (!job.spec.checkpointUri) return undefined;
  const uri = childUri(job.spec.checkpointUri, CHECKPOINT_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readObject(deps, uri, MAX_CHECKPOINT_BYTES);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'NotFound') return undefined;
    throw error;
  }
  try {
    const saved = decodeCheckpoint(bytes, `The checkpoint at ${uri}`);
    return saved.fingerprint === fingerprint ? { saved } : undefined;
  } catch (error) {
    if (error instanceof DomainError) return { damaged: error.message };
    throw error;
  }
}

/**
 * Writes the latest checkpoint while training goes on: a checkpoint arriving
 * while one is being written replaces the one waiting, so a fast run never
 * queues writes, and the file always holds a whole, recent checkpoint.
 */
class LatestCheckpointWriter {
  latest: TrainerCheckpoint | undefined;
  private pending: TrainerCheckpoint | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly files: CheckpointFiles,
    private readonly jobName: string,
    private readonly fingerprint: string,
    private readonly logger: Logger,
    /** Awaited before each write. */
    private readonly beforeSave: () => Promise<void> = async () => {},
  ) {}

  save(checkpoint: TrainerCheckpoint): void {
    this.latest = checkpoint;
    this.pending = checkpoint;
    this.writing ??= this.drain();
  }

  async flush(): Promise<void> {
    await this.writing;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const checkpoint = this.pending;
      this.pending = undefined;
      try {
        await this.beforeSave();
        await this.files.save(this.jobName, { checkpoint, fingerprint: this.fingerprint });
      } catch (error) {
        // A lost checkpoint costs a resume some epochs, never the job.
        this.logger.warn('could not write a checkpoint', { jobName: this.jobName, epoch: checkpoint.epoch, error: String(error) });
      }
    }
    this.writing = undefined;
  }
}

function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2));
}
