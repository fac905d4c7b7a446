import type { TrainingJob } from './training-job.ts';

/** What the controller sees of a job besides its record: whether a run of it is active in this process. */
export interface TrainingJobObservation {
  running: boolean;
}

export type TrainingJobAction =
  /** Desired InProgress, nothing running: start a run (a new job, or one a crash interrupted). */
  | { kind: 'start' }
  /** Running past StoppingCondition.MaxRuntimeInSeconds: ask the run to stop. */
  | { kind: 'request-stop'; reason: 'MaxRuntimeExceeded' }
  /** A stop was asked for and nothing is running any more: record the end. */
  | { kind: 'finish-stopped'; secondaryStatus: 'Stopped' | 'MaxRuntimeExceeded' }
  | { kind: 'none' };

export type DecidableTrainingJob = Pick<TrainingJob, 'status' | 'stopRequest' | 'startedAtMs'> & {
  spec: Pick<TrainingJob['spec'], 'maxRuntimeSeconds'>;
};

/** The next step for one training job at `nowMs`. Pure: the controller acts on the answer. */
export function decideTrainingJob(job: DecidableTrainingJob, observation: TrainingJobObservation, nowMs: number): TrainingJobAction {
  if (job.status !== 'InProgress' && job.status !== 'Stopping') return { kind: 'none' };
  if (job.stopRequest || job.status === 'Stopping') {
    if (observation.running) return { kind: 'none' };
    return { kind: 'finish-stopped', secondaryStatus: job.stopRequest?.reason === 'MaxRuntimeExceeded' ? 'MaxRuntimeExceeded' : 'Stopped' };
  }
  if (!observation.running) return { kind: 'start' };
  if (job.startedAtMs !== undefined && nowMs - job.startedAtMs >= job.spec.maxRuntimeSeconds * 1000) {
    return { kind: 'request-stop', reason: 'MaxRuntimeExceeded' };
  }
  return { kind: 'none' };
}
