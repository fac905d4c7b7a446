import type { SecondaryStatus, TrainingJob } from '../domain/training/training-job.ts';
import type { ControlDeps } from './deps.ts';
import type { RunLog } from './run-log.ts';

/** Thrown inside a run whose signal was aborted, to unwind it without recording anything more. */
export const ABORTED = Symbol('run aborted');

/** What one run of a training job can do to its record, and know about itself. */
export interface RunContext {
  deps: ControlDeps;
  jobName: string;
  signal: AbortSignal;
  /** The ONNX Runtime threads the job's instance type allows on this machine. */
  threads: number;
  /** Enters a SecondaryStatus (and merges `patch`); throws ABORTED once the run is aborted. */
  enter(status: SecondaryStatus, message: string, patch?: Partial<TrainingJob>): TrainingJob;
  /** Enters the job's terminal status once its log's last lines are written, so whoever sees the job ended sees its whole log. */
  end(status: SecondaryStatus, message: string, patch: Partial<TrainingJob>): Promise<TrainingJob>;
  /** A stop was asked for, or the run was aborted. */
  stopRequested(): boolean;
  /** The job's log, where its MetricDefinitions are scraped. */
  log: RunLog;
}

/** How a run that stopped early ends: Stopped, with the reason SageMaker shows as SecondaryStatus. */
export function stoppedStatus(job: TrainingJob): 'Stopped' | 'MaxRuntimeExceeded' {
  return job.stopRequest?.reason === 'MaxRuntimeExceeded' ? 'MaxRuntimeExceeded' : 'Stopped';
}

export function endMessage(status: SecondaryStatus, epochsDone: number, epochs: number): string {
  const kept = epochsDone > 0 ? `; the model after ${epochsDone} of ${epochs} epochs was saved` : '; no epoch had finished, so there is no model';
  if (status === 'Completed') return 'Training job completed';
  if (status === 'MaxRuntimeExceeded') return `Stopped at StoppingCondition.MaxRuntimeInSeconds${kept}`;
  return `Stopped on request${kept}`;
}

