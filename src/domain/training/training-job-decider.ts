import type { TrainingJob } from './training-job.ts';

/**
 * How long a run may take to stop once asked, as SageMaker gives a training
 * container 120 seconds between SIGTERM and SIGKILL. A run stuck past it (on a
 * filesystem that never answers, say) is abandoned, so that the job ends anyway.
 */
export const STOP_GRACE_SECONDS = 120;

/** What the controller sees of a job besides its record: whether a run of it is active in this process. */
export interface TrainingJobObservation {
  running: boolean;
}

export type StoppedStatus = 'Stopped' | 'MaxRuntimeExceeded';

export type TrainingJobAction =
  /** Desired InProgress, nothing running: start a run (a new job, or one a crash interrupted). */
  | { kind: 'start' }
  /** Running past StoppingCondition.MaxRuntimeInSeconds: ask the run to stop. */
  | { kind: 'request-stop'; reason: 'MaxRuntimeExceeded' }
  /** A stop was asked for and nothing is running any more: record the end. */
  | { kind: 'finish-stopped'; secondaryStatus: StoppedStatus }
  /** A stop was asked for STOP_GRACE_SECONDS ago and the run is still going: stop waiting for it and record the end. */
  | { kind: 'abandon'; secondaryStatus: StoppedStatus }
  | { kind: 'none' };

export type DecidableTrainingJob = Pick<TrainingJob, 'status' | 'stopRequest' | 'startedAtMs' | 'priorRunMs'> & {
  spec: Pick<TrainingJob['spec'], 'maxRuntimeSeconds'>;
};

/** The next step for one training job at `nowMs`. Pure: the controller acts on the answer. */
export function decideTrainingJob(job: DecidableTrainingJob, observation: TrainingJobObservation, nowMs: number): TrainingJobAction {
  if (job.status !== 'InProgress' && job.status !== 'Stopping') return { kind: 'none' };
  if (job.stopRequest || job.status === 'Stopping') {
    const secondaryStatus: StoppedStatus = job.stopRequest?.reason === 'MaxRuntimeExceeded' ? 'MaxRuntimeExceeded' : 'Stopped';
    if (!observation.running) return { kind: 'finish-stopped', secondaryStatus };
    if (job.stopRequest && nowMs - job.stopRequest.atMs >= STOP_GRACE_SECONDS * 1000) return { kind: 'abandon', secondaryStatus };
    return { kind: 'none' };
  }
  if (!observation.running) return { kind: 'start' };
  if (job.startedAtMs !== undefined && runtimeMs(job, nowMs) >= job.spec.maxRuntimeSeconds * 1000) {
    return { kind: 'request-stop', reason: 'MaxRuntimeExceeded' };
  }
  return { kind: 'none' };
}

/** How long the job has run: the current run, and the runs before it that a restart cut short. */
export function runtimeMs(job: Pick<TrainingJob, 'startedAtMs' | 'priorRunMs'>, nowMs: number): number {
  return (job.priorRunMs ?? 0) + (job.startedAtMs === undefined ? 0 : Math.max(0, nowMs - job.startedAtMs));
}
