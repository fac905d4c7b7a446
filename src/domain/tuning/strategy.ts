import type { Random } from '../../core/random.ts';
import type { ObjectiveType, ParameterValues, SearchSpace, TrialRecord } from './search-space.ts';

/**
 * Proposes hyperparameters (Optuna's samplers: one interface, several
 * strategies). Pure: randomness comes from `random`, so the same seed and the
 * same trial results give the same proposals.
 */
export interface Sampler {
  /** The next trial's values, given every trial so far; undefined once the strategy has nothing left to try (a finished grid). */
  propose(space: SearchSpace, history: readonly TrialRecord[], objective: ObjectiveType, random: Random): ParameterValues | undefined;
}

/** Stops trials early (Optuna's pruners). Pure. */
export interface Pruner {
  /** Whether `trial`, having reported `trial.intermediate`, should stop now, judged against the other trials. */
  shouldPrune(trial: TrialRecord, history: readonly TrialRecord[], objective: ObjectiveType): boolean;
}
