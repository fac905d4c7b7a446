import type { TrainingJobStatus } from '../training/training-job.ts';

/** What the counters need of a trial: its training job's status (Pending before it exists) and its final objective. */
export interface CountedTrial {
  status: 'Pending' | TrainingJobStatus;
  final?: number;
}

export type ObjectiveStatus = 'Succeeded' | 'Pending' | 'Failed';

/**
 * DescribeHyperParameterTuningJob's TrainingJobStatusCounters. Kennel retries no
 * trial, so every failure counts as NonRetryableError; a trial recorded but not
 * yet started counts as InProgress, as SageMaker counts its launching trials.
 */
export function trainingJobStatusCounters(trials: readonly CountedTrial[]): Record<'Completed' | 'InProgress' | 'RetryableError' | 'NonRetryableError' | 'Stopped', number> {
  const counters = { Completed: 0, InProgress: 0, RetryableError: 0, NonRetryableError: 0, Stopped: 0 };
  for (const trial of trials) {
    if (trial.status === 'Completed') counters.Completed++;
    else if (trial.status === 'Stopped') counters.Stopped++;
    else if (trial.status === 'Failed') counters.NonRetryableError++;
    else counters.InProgress++;
  }
  return counters;
}

/** Succeeded once the trial reported its objective; Pending while it runs; Failed if it ended without one. */
export function objectiveStatus(trial: CountedTrial): ObjectiveStatus {
  if (trial.final !== undefined) return 'Succeeded';
  return trial.status === 'Pending' || trial.status === 'InProgress' || trial.status === 'Stopping' ? 'Pending' : 'Failed';
}

export function objectiveStatusCounters(trials: readonly CountedTrial[]): Record<ObjectiveStatus, number> {
  const counters = { Succeeded: 0, Pending: 0, Failed: 0 };
  for (const trial of trials) counters[objectiveStatus(trial)]++;
  return counters;
}
