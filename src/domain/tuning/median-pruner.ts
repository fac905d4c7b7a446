import { ascending, lossOf } from './objective.ts';
import type { ObjectiveType, TrialRecord } from './search-space.ts';
import type { Pruner } from './strategy.ts';

/**
 * SageMaker's early stopping Auto ("Stop Training Jobs Early"): after each epoch, take the
 * running average of the objective of every earlier training job up to that epoch, and the
 * median of those averages; a job whose objective at that epoch is worse than the median is
 * stopped. SageMaker documents no warm-up; Kennel adds one, below.
 */
export interface MedianPrunerOptions {
  /**
   * Earlier trials that must have reached the epoch before it is judged. With one or two the
   * "median" is a single curve or the mean of two, and half of the first trials would be stopped
   * on the luck of whoever ran first.
   */
  minTrials: number;
  /**
   * Epochs at the start that are never judged. The first epoch says more about the initial
   * weights than about the hyperparameters: a small learning rate always looks worst there, and
   * is exactly what the rule would otherwise stop first.
   */
  warmupEpochs: number;
}

export const DEFAULT_MEDIAN_PRUNER_OPTIONS: Readonly<MedianPrunerOptions> = { minTrials: 3, warmupEpochs: 1 };

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function runningAverage(values: readonly number[], epochs: number): number {
  let sum = 0;
  for (let i = 0; i < epochs; i++) sum += values[i];
  return sum / epochs;
}

/**
 * Judges the trial at its latest epoch. Earlier trials are those proposed before it (a lower
 * number), whatever became of them: a value a trial reported at an epoch is what it measured
 * there, however it ended later.
 */
export function medianPruner(options: Partial<MedianPrunerOptions> = {}): Pruner {
  const { minTrials, warmupEpochs } = { ...DEFAULT_MEDIAN_PRUNER_OPTIONS, ...options };
  return {
    shouldPrune(trial: TrialRecord, history: readonly TrialRecord[], objective: ObjectiveType): boolean {
      const epoch = trial.intermediate.length;
      if (epoch <= warmupEpochs) return false;
      const averages = history
        .filter((other) => other.number < trial.number && other.intermediate.length >= epoch)
        .map((other) => lossOf(runningAverage(other.intermediate, epoch), objective))
        .sort(ascending);
      if (averages.length < Math.max(1, minTrials)) return false;
      return lossOf(trial.intermediate[epoch - 1], objective) > median(averages);
    },
  };
}
