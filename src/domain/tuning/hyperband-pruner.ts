import { DomainError } from '../../core/errors.ts';
import { deriveSeed } from '../../core/random.ts';
import { ascending, lossOf } from './objective.ts';
import type { ObjectiveType, TrialRecord } from './search-space.ts';
import type { Pruner } from './strategy.ts';

/**
 * SageMaker's Hyperband strategy, stopping side (the proposals are random): Hyperband as Optuna's
 * HyperbandPruner runs it, brackets of asynchronous successive halving with the resource counted
 * in epochs. A trial in bracket b is judged at epochs minResource·η^(b+k): it goes on only if
 * its objective there is in the best 1/η of the trials of its bracket that got that far (or, while
 * fewer than η have, only if it is the best of them).
 */
export interface HyperbandOptions {
  /** HyperbandStrategyConfig.MinResource: no trial is stopped before this many epochs. */
  minResource: number;
  /** HyperbandStrategyConfig.MaxResource: the epochs a trial that is never stopped runs. */
  maxResource: number;
  /** η, SageMaker's and Optuna's 3. */
  reductionFactor: number;
  /** Spreads trials over brackets, as Optuna does with its study name: the tuning job's RandomSeed. */
  seed: number;
}

/** HyperbandStrategyConfig.MaxResource may not exceed 20,000 epochs. */
export const MAX_HYPERBAND_RESOURCE = 20_000;

/** The static hyperparameters SageMaker reads MaxResource from when it is not given. */
const EPOCH_HYPERPARAMETERS = ['epochs', 'numepochs', 'n-epochs', 'n_epochs', 'num_epochs'];

/** MaxResource as SageMaker infers it: from the first epoch count among the static hyperparameters. */
export function inferMaxResource(staticHyperParameters: Readonly<Record<string, string>>): number | undefined {
  for (const name of EPOCH_HYPERPARAMETERS) {
    const text = staticHyperParameters[name];
    // The SageMaker Python SDK JSON-quotes the hyperparameters of framework estimators ("\"10\"").
    const value = text === undefined ? NaN : Number(text.replace(/^"(.*)"$/, '$1'));
    if (Number.isInteger(value)) return value;
  }
  return undefined;
}

const CONFIG_FIELD = 'HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig';

function validate(options: HyperbandOptions): void {
  const { minResource, maxResource, reductionFactor } = options;
  if (!Number.isInteger(reductionFactor) || reductionFactor < 2) {
    throw new DomainError('ValidationError', `The Hyperband reduction factor must be an integer of at least 2, got ${reductionFactor}`, {
      field: 'reductionFactor',
    });
  }
  if (!Number.isInteger(maxResource) || maxResource < 1 || maxResource > MAX_HYPERBAND_RESOURCE) {
    throw new DomainError('ValidationError', `MaxResource must be an integer from 1 to ${MAX_HYPERBAND_RESOURCE} epochs, got ${maxResource}`, {
      field: `${CONFIG_FIELD}.MaxResource`,
    });
  }
  if (!Number.isInteger(minResource) || minResource < 1 || minResource > maxResource) {
    throw new DomainError('ValidationError', `MinResource must be an integer from 1 to MaxResource (${maxResource}), got ${minResource}`, {
      field: `${CONFIG_FIELD}.MinResource`,
    });
  }
}

/** floor(log_η(max / min)) + 1 brackets, counted without floating-point logarithms. */
export function bracketCount(options: Pick<HyperbandOptions, 'minResource' | 'maxResource' | 'reductionFactor'>): number {
  let count = 1;
  while (options.minResource * options.reductionFactor ** count <= options.maxResource) count++;
  return count;
}

/**
 * Hyperband's share of trials per bracket (n in the paper's Algorithm 1, up to a common factor):
 * the aggressive brackets, which stop most trials early, get the most.
 */
function bracketBudgets(options: HyperbandOptions): number[] {
  const count = bracketCount(options);
  return Array.from({ length: count }, (_, bracket) => {
    const s = count - 1 - bracket;
    return Math.ceil((count * options.reductionFactor ** s) / (s + 1));
  });
}

/** The bracket a trial belongs to: a hash of its number, spread in proportion to the brackets' budgets. */
export function bracketOf(trialNumber: number, options: HyperbandOptions): number {
  const budgets = bracketBudgets(options);
  const total = budgets.reduce((sum, budget) => sum + budget, 0);
  let n = deriveSeed(options.seed, `hyperband:${trialNumber}`) % total;
  for (let bracket = 0; bracket < budgets.length; bracket++) {
    n -= budgets[bracket];
    if (n < 0) return bracket;
  }
  return budgets.length - 1;
}

export const DEFAULT_HYPERBAND_OPTIONS = { minResource: 1, reductionFactor: 3, seed: 0 } as const;

export function hyperbandPruner(options: Partial<HyperbandOptions> & Pick<HyperbandOptions, 'maxResource'>): Pruner {
  const settings: HyperbandOptions = { ...DEFAULT_HYPERBAND_OPTIONS, ...options };
  validate(settings);
  return {
    shouldPrune(trial: TrialRecord, history: readonly TrialRecord[], objective: ObjectiveType): boolean {
      const epoch = trial.intermediate.length;
      const bracket = bracketOf(trial.number, settings);
      // Called after every epoch; judged only at the epoch that ends a rung. At MaxResource the trial
      // is done anyway, and stopping it there would only lose a finished result.
      let rungEpoch = settings.minResource * settings.reductionFactor ** bracket;
      while (rungEpoch < epoch) rungEpoch *= settings.reductionFactor;
      if (rungEpoch !== epoch || epoch >= settings.maxResource) return false;
      const value = lossOf(trial.intermediate[epoch - 1], objective);
      // A diverged (NaN) objective is stopped at its rung whatever the others did, as Optuna does.
      if (value === Infinity) return true;
      const competing = history
        .filter((other) => other.number !== trial.number && other.intermediate.length >= epoch && bracketOf(other.number, settings) === bracket)
        .map((other) => lossOf(other.intermediate[epoch - 1], objective));
      competing.push(value);
      competing.sort(ascending);
      const promotable = Math.max(0, Math.floor(competing.length / settings.reductionFactor) - 1);
      return value > competing[promotable];
    },
  };
}
