import type { Tag } from '../tags.ts';
import type { BackboneRef } from '../training/training-job.ts';
import type { TuningStrategy } from './ranges.ts';
import type { ObjectiveType, SearchSpace } from './search-space.ts';

/** HyperParameterTuningJob records, in SageMaker's words. */

export type TuningJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface TuningObjective {
  type: ObjectiveType;
  metricName: string;
}

/** The training job every trial starts from: CreateTrainingJob's members, without a name or the tuned hyperparameters. */
export interface TrialTemplate {
  trainingImage: string;
  trainingInputMode: string;
  roleArn: string;
  staticHyperParameters: Record<string, string>;
  channels: { channelName: string; uri: string; s3DataType: string; contentType?: string; inputMode?: string }[];
  outputPath: string;
  instanceType: string;
  instanceCount: number;
  volumeSizeInGB: number;
  maxRuntimeSeconds?: number;
  metricDefinitions: { name: string; regex: string }[];
  checkpointUri?: string;
  /** The built-in algorithm's backbone, imported once for every trial; absent for script mode. */
  backbone?: BackboneRef;
  /** Script mode: the Environment of every trial. */
  environment?: Record<string, string>;
}

export interface TuningJobSpec {
  strategy: TuningStrategy;
  hyperband?: { minResource?: number; maxResource?: number };
  objective: TuningObjective;
  ranges: SearchSpace;
  maxNumberOfTrainingJobs: number;
  maxParallelTrainingJobs: number;
  earlyStopping: 'Off' | 'Auto';
  /** Makes the proposals reproducible: the same seed and the same trial results give the same trials. */
  randomSeed: number;
  targetObjectiveValue?: number;
  template: TrialTemplate;
  warmStart?: { parents: string[]; type: 'IdenticalDataAndAlgorithm' | 'TransferLearning' };
}

/**
 * One trial: recorded before its training job is created, so a crash between
 * the two leaves an entry to create the job from, never a job nobody counts.
 */
export interface TrialEntry {
  number: number;
  trainingJobName: string;
  /** The tuned values, as the training job receives them. */
  hyperParameters: Record<string, string>;
  createdAtMs: number;
  /** Stopped by early stopping (the median rule or Hyperband), not by a user. */
  earlyStopped?: boolean;
}

/** The built-in algorithm's images, embedded once for every trial (an artifact of features and labels). */
export interface PreparedTrialData {
  digest: string;
  classes: string[];
}

export interface TuningJob {
  name: string;
  spec: TuningJobSpec;
  tags: Tag[];
  stopRequest?: { atMs: number };
  status: TuningJobStatus;
  failureReason?: string;
  trials: TrialEntry[];
  /** Trials of the warm-start parents, as history for the strategy. */
  parentTrials?: { hyperParameters: Record<string, string>; state: 'complete' | 'pruned' | 'failed'; value?: number; intermediate: number[] }[];
  preparedData?: PreparedTrialData;
  createdAtMs: number;
  lastModifiedAtMs: number;
  endedAtMs?: number;
}

export function isTuningTerminal(status: TuningJobStatus): boolean {
  return status === 'Completed' || status === 'Failed' || status === 'Stopped';
}
