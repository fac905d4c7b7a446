import type { TraceStep } from '../../domain/debugger/trace.ts';
import type { EpochMetrics, HeadHyperParameters } from '../../domain/training/training-job.ts';
import type { HeadWeights } from '../../domain/training/head-weights.ts';
import type { MeanMetrics } from '../../domain/training/metrics.ts';
import type { DebugHook, LabelledFeatures, TrainerCheckpoint } from './head-trainer.ts';
import type { WorkerFailure } from '../workers/worker-errors.ts';

/** The messages between HeadTrainerPool and its worker threads. */

/** What a head is trained on, and how: what a task sends to its worker. */
export interface HeadTrainingInput {
  /** Features over a SharedArrayBuffer reach the worker without a copy; others are copied once. */
  train: LabelledFeatures;
  validation: LabelledFeatures;
  /** Evaluated with the final weights, when given. */
  test?: LabelledFeatures;
  featureSize: number;
  classCount: number;
  hyperParameters: HeadHyperParameters;
  intraOpNumThreads: number;
  resumeFrom?: TrainerCheckpoint;
  /** Names the data: a worker keeps its own copy of the last data it saw, for the next task on the same data (tuning trials). */
  dataKey?: string;
  /** The debugger records each step (its tensors as the hook says): the steps travel with the epochs' reports. */
  debug?: Omit<DebugHook, 'onStep'>;
}

export interface HeadTrainingResult {
  weights: HeadWeights;
  epochs: EpochMetrics[];
  test?: MeanMetrics;
}

export interface TrainRequest extends HeadTrainingInput {
  kind: 'train';
  /** Int32Array over a SharedArrayBuffer: 1 asks the trainer to stop before its next epoch. */
  stopFlag: Int32Array;
  /** Epochs are reported in batches at most this often (and at the end), with a checkpoint after the batch's last epoch. */
  reportEveryMs: number;
}

export type TrainerMessage =
  /** Epochs since the last report, in order, a checkpoint after the last of them, and (with the debugger's hook on) their steps. */
  | { kind: 'epochs'; metrics: EpochMetrics[]; checkpoint: TrainerCheckpoint; steps?: TraceStep[] }
  | ({ kind: 'done' } & HeadTrainingResult)
  | ({ kind: 'error' } & WorkerFailure);
