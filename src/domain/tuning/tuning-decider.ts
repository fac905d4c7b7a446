import type { TrainingJobStatus } from '../training/training-job.ts';
import type { ParameterValues, TrialRecord } from './search-space.ts';
import type { Pruner } from './strategy.ts';
import type { TrialEntry, TuningJob } from './tuning-job.ts';

/** What the controller sees of one trial: its entry, its training job's status (Pending before it exists) and its objective. */
export interface TrialView {
  entry: TrialEntry;
  params: ParameterValues;
  status: 'Pending' | TrainingJobStatus;
  /** The objective after each epoch so far. */
  intermediate: readonly number[];
  /** The objective of a job that ended with one: the final metric of a Completed (or early-stopped) job. */
  final?: number;
}

export interface TuningObservation {
  trials: readonly TrialView[];
  /** Training jobs this machine may start now, whatever runs them (Kennel's concurrency limit). */
  freeSlots: number;
}

export type TuningAction =
  /** Trials recorded before a crash whose training jobs were never created. */
  | { kind: 'create-trial-jobs'; trials: TrialEntry[] }
  /** Propose and start this many new trials. */
  | { kind: 'launch'; count: number }
  /** Stop these trials: early stopping judged them hopeless. */
  | { kind: 'early-stop'; trainingJobNames: string[] }
  /** Stop these trials: the tuning job is stopping. */
  | { kind: 'stop-trials'; trainingJobNames: string[] }
  | { kind: 'finish'; status: 'Completed' | 'Failed' | 'Stopped'; failureReason?: string };

const RUNNING: readonly TrialView['status'][] = ['Pending', 'InProgress', 'Stopping'];

/**
 * The next steps of one tuning job. Pure: the strategy's pruner is passed in,
 * and the controller proposes the values of launched trials and acts on the rest.
 */
export function decideTuningJob(job: TuningJob, observation: TuningObservation, pruner: Pruner | undefined): TuningAction[] {
  if (job.status !== 'InProgress' && job.status !== 'Stopping') return [];
  const { trials } = observation;
  const actions: TuningAction[] = [];
  const pending = trials.filter((trial) => trial.status === 'Pending').map((trial) => trial.entry);
  if (pending.length > 0) actions.push({ kind: 'create-trial-jobs', trials: pending });
  const running = trials.filter((trial) => RUNNING.includes(trial.status));

  if (job.stopRequest || job.status === 'Stopping') {
    const toStop = running.filter((trial) => trial.status === 'InProgress').map((trial) => trial.entry.trainingJobName);
    if (toStop.length > 0) actions.push({ kind: 'stop-trials', trainingJobNames: toStop });
    if (running.length === 0) actions.push({ kind: 'finish', status: 'Stopped' });
    return actions;
  }

  if (pruner && job.spec.earlyStopping === 'Auto') {
    const history = trials.map((trial) => trialRecord(trial));
    const hopeless = trials
      .filter((trial) => trial.status === 'InProgress' && trial.intermediate.length > 0)
      .filter((trial) => pruner.shouldPrune(trialRecord(trial), history, job.spec.objective.type))
      .map((trial) => trial.entry.trainingJobName);
    if (hopeless.length > 0) actions.push({ kind: 'early-stop', trainingJobNames: hopeless });
  }

  const targetReached = job.spec.targetObjectiveValue !== undefined && reachedTarget(trials, job);
  const room = Math.min(job.spec.maxParallelTrainingJobs - running.length, observation.freeSlots, job.spec.maxNumberOfTrainingJobs - trials.length);
  if (!targetReached && room > 0) actions.push({ kind: 'launch', count: room });
  else if (running.length === 0 && (targetReached || trials.length >= job.spec.maxNumberOfTrainingJobs)) {
    const succeeded = trials.some((trial) => trial.final !== undefined);
    actions.push(
      succeeded
        ? { kind: 'finish', status: 'Completed' }
        : { kind: 'finish', status: 'Failed', failureReason: 'No training job of the tuning job reported the objective metric; see the training jobs’ FailureReason' },
    );
  }
  return actions;
}

/** The trial as the strategies see it. */
export function trialRecord(trial: TrialView): TrialRecord {
  const state: TrialRecord['state'] = RUNNING.includes(trial.status)
    ? 'running'
    : trial.entry.earlyStopped
      ? 'pruned'
      : trial.final !== undefined
        ? 'complete'
        : 'failed';
  return {
    number: trial.entry.number,
    params: trial.params,
    state,
    intermediate: trial.intermediate,
    ...(trial.final !== undefined ? { value: trial.final } : {}),
  };
}

/** The trial with the best final objective, among those that have one. */
export function bestTrial<T extends { final?: number }>(trials: readonly T[], type: 'Minimize' | 'Maximize'): T | undefined {
  let best: T | undefined;
  for (const trial of trials) {
    if (trial.final === undefined || Number.isNaN(trial.final)) continue;
    if (!best || (type === 'Minimize' ? trial.final < best.final! : trial.final > best.final!)) best = trial;
  }
  return best;
}

function reachedTarget(trials: readonly TrialView[], job: TuningJob): boolean {
  const best = bestTrial(trials, job.spec.objective.type);
  const target = job.spec.targetObjectiveValue!;
  return best !== undefined && (job.spec.objective.type === 'Minimize' ? best.final! <= target : best.final! >= target);
}
