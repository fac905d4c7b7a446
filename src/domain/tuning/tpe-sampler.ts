import type { Random } from '../../core/random.ts';
import { lossOf } from './objective.ts';
import { categoricalEstimator, numericEstimator, type ParzenEstimator } from './parzen-estimator.ts';
import { sampleSpace } from './random-sampler.ts';
import type { ObjectiveType, ParameterRange, ParameterValues, SearchSpace, TrialRecord } from './search-space.ts';
import type { Sampler } from './strategy.ts';

/**
 * The Bayesian strategy: a Tree-structured Parzen Estimator shaped after Optuna's TPESampler
 * (univariate). The trials so far are split into the best gamma(n) and the rest; for each range,
 * one Parzen estimator l is fitted to the good trials' values and one, g, to the others'; of
 * nEiCandidates values drawn from l, the one where l/g is highest (the most expected improvement)
 * is proposed.
 */
export interface TpeOptions {
  /** Proposals drawn at random before the model has enough to go on. */
  nStartupTrials: number;
  /** Values drawn from l per range and proposal, of which the best by l/g is kept. */
  nEiCandidates: number;
  /** The weight of each estimator's prior kernel, which keeps the whole range in play. */
  priorWeight: number;
  /** How many of n observed trials count as good. */
  gamma: (n: number) => number;
  /**
   * Count trials still running as the worst results so far (Optuna's constant liar), so that
   * parallel proposals spread out instead of piling onto the same promising spot. Off, running
   * trials are ignored.
   */
  constantLiar: boolean;
}

/** Optuna's default gamma: the best tenth, at most 25. */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/**
 * Optuna's default weights for n observations in trial order: equal up to 25, then the 25 newest
 * at full weight and the older ones ramping from 1/n up, so old results fade as the search moves.
 */
export function defaultWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const older = n - 25;
  const step = older > 1 ? (1 - 1 / n) / (older - 1) : 0;
  return [...Array.from({ length: older }, (_, i) => 1 / n + i * step), ...new Array<number>(25).fill(1)];
}

/**
 * Optuna's 10 random trials to start with, cut to a quarter of a small budget (5 of 20), so that
 * a short tuning job still has most of its trials guided by the model.
 */
export function startupTrialsFor(maxNumberOfTrainingJobs: number): number {
  return Math.min(10, Math.max(1, Math.floor(maxNumberOfTrainingJobs / 4)));
}

export const DEFAULT_TPE_OPTIONS: Readonly<TpeOptions> = {
  nStartupTrials: 10,
  nEiCandidates: 24,
  priorWeight: 1,
  gamma: defaultGamma,
  constantLiar: false,
};

interface Observation {
  trial: TrialRecord;
  /**
   * Optuna's ranking, before the loss: complete trials first (-Infinity), then pruned ones by how
   * far they got (-epochs), and last those pruned before reporting anything (Infinity).
   */
  stage: number;
  /** The objective, negated when maximising, so that lower is better. */
  loss: number;
}

function observe(history: readonly TrialRecord[], objective: ObjectiveType, constantLiar: boolean): Observation[] {
  const observations: Observation[] = [];
  for (const trial of history) {
    if (trial.state === 'complete' && trial.value !== undefined && !Number.isNaN(trial.value)) {
      observations.push({ trial, stage: -Infinity, loss: lossOf(trial.value, objective) });
    } else if (trial.state === 'pruned') {
      const last = trial.intermediate.at(-1);
      if (last === undefined) observations.push({ trial, stage: Infinity, loss: 0 });
      else observations.push({ trial, stage: -trial.intermediate.length, loss: lossOf(last, objective) });
    } else if (trial.state === 'running' && constantLiar) {
      observations.push({ trial, stage: -Infinity, loss: Infinity });
    }
  }
  // Trial order, whatever order the store listed them in, so the same results give the same proposal.
  return observations.sort((a, b) => a.trial.number - b.trial.number);
}

function compareRank(a: Observation, b: Observation): number {
  if (a.stage !== b.stage) return a.stage < b.stage ? -1 : 1;
  if (a.loss !== b.loss) return a.loss < b.loss ? -1 : 1;
  return 0;
}

/** The value a trial had for `range` in the estimator's terms (a number, or a category's index); undefined if it had none in the range. */
function observedValue(range: ParameterRange, params: ParameterValues): number | undefined {
  const value = params[range.name];
  if (range.kind === 'Categorical') {
    const index = range.values.indexOf(String(value));
    return index < 0 ? undefined : index;
  }
  return typeof value === 'number' && value >= range.min && value <= range.max ? value : undefined;
}

/** An estimator over the values a group of trials had for `range`; trials without one (warm start by transfer learning) are left out of this range only. */
function estimator(range: ParameterRange, group: readonly Observation[], priorWeight: number): ParzenEstimator {
  const values = group
    .map((observation) => observedValue(range, observation.trial.params))
    .filter((value): value is number => value !== undefined);
  const weights = defaultWeights(values.length);
  return range.kind === 'Categorical'
    ? categoricalEstimator(range.values.length, values, weights, priorWeight)
    : numericEstimator(range, values, weights, priorWeight);
}

function proposeValue(
  range: ParameterRange,
  below: readonly Observation[],
  above: readonly Observation[],
  options: TpeOptions,
  random: Random,
): number | string {
  if (range.kind !== 'Categorical' && range.min === range.max) return range.min;
  const good = estimator(range, below, options.priorWeight);
  const bad = estimator(range, above, options.priorWeight);
  let best = good.sample(random);
  let bestScore = good.logPdf(best) - bad.logPdf(best);
  for (let i = 1; i < options.nEiCandidates; i++) {
    const candidate = good.sample(random);
    const score = good.logPdf(candidate) - bad.logPdf(candidate);
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return range.kind === 'Categorical' ? range.values[best] : best;
}

export function tpeSampler(options: Partial<TpeOptions> = {}): Sampler {
  const settings: TpeOptions = { ...DEFAULT_TPE_OPTIONS, ...options };
  return {
    propose(space: SearchSpace, history: readonly TrialRecord[], objective: ObjectiveType, random: Random): ParameterValues {
      const observations = observe(history, objective, settings.constantLiar);
      if (observations.length < settings.nStartupTrials) return sampleSpace(space, random);
      const ranked = [...observations].sort(compareRank);
      const good = new Set(ranked.slice(0, settings.gamma(observations.length)));
      const below = observations.filter((observation) => good.has(observation));
      const above = observations.filter((observation) => !good.has(observation));
      return Object.fromEntries(space.map((range) => [range.name, proposeValue(range, below, above, settings, random)]));
    },
  };
}
