import type { EpochMetrics, HeadHyperParameters } from '../../domain/training/training-job.ts';
import type { HeadWeights } from '../../domain/training/head-weights.ts';
import type { MeanMetrics } from '../../domain/training/metrics.ts';
import type { LabelledFeatures, TrainerCheckpoint } from './head-trainer.ts';
import type { WorkerFailure } from '../workers/worker-errors.ts';

/** The messages between HeadTrainerPool and its worker threads. */

export interface TrainRequest {
  kind: 'train';
  train: LabelledFeatures;
  validation: LabelledFeatures;
  /** Evaluated with the final weights, when given. */
  test?: LabelledFeatures;
  featureSize: number;
  classCount: number;
  hyperParameters: HeadHyperParameters;
  intraOpNumThreads: number;
  resumeFrom?: TrainerCheckpoint;
  /** Names the data: a worker keeps its own copy of the last data it saw, for the next task on the same data. */
  dataKey?: string;
  /** Int32Array over a SharedArrayBuffer: 1 asks the trainer to stop before its next epoch. */
  stopFlag: Int32Array;
  /** Epochs are reported in batches at most this often (and at the end), with a checkpoint after the batch's last epoch. */
  reportEveryMs: number;
}

export type TrainerMessage =
  /** Epochs since the last report, in order, and a checkpoint after the last of them. */
  | { kind: 'epochs'; metrics: EpochMetrics[]; checkpoint: TrainerCheckpoint }
  | { kind: 'done'; weights: HeadWeights; epochs: EpochMetrics[]; test?: MeanMetrics }
  | ({ kind: 'error' } & WorkerFailure);
