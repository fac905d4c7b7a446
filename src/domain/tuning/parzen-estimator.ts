import { randomNormal, type Random } from '../../core/random.ts';
import type { NumericRange } from './ranges.ts';
import { fromScaled, integerCell, scaledInterval, toScaled } from './scaled-space.ts';

/**
 * A Parzen estimator as TPE uses it (Optuna's `_ParzenEstimator`, univariate): a weighted
 * mixture with one kernel per observation plus one prior kernel covering the whole range.
 * Numeric kernels are Gaussians truncated to the range, in its scaled space; integers are
 * scored by the mass of their cell, as Optuna's discrete distributions are. Categorical kernels
 * are smoothed counts. Values are the range's own (a number, or a category's index).
 */
export interface ParzenEstimator {
  sample(random: Random): number;
  logPdf(value: number): number;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
/**
 * Below this width (in standard deviations) a cell's mass is its width times the density at its
 * middle: exact to 1e-6, and free of the cancellation a difference of two CDFs suffers there.
 */
const NARROW_CELL = 1e-3;
/**
 * Rejection draws of a truncated kernel before settling for its centre. A draw is accepted at
 * least a third of the time, since every kernel is centred inside the range and no wider than it.
 */
const MAX_REJECTIONS = 100;

function logStdNormalPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/**
 * ln P(Z > z) for z >= 0, from the erfc approximation of Numerical Recipes (relative error
 * under 1.2e-7). Its form t·exp(polynomial) gives the logarithm directly, so it stays exact far
 * in the tail where P itself underflows.
 */
function logUpperTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const polynomial =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + polynomial - Math.LN2;
}

/** ln(e^x - e^y) for x > y. */
function logDiffExp(x: number, y: number): number {
  return x + Math.log1p(-Math.exp(y - x));
}

/** ln P(a < Z < b) for a standard normal Z and a < b. */
export function logNormalMass(a: number, b: number): number {
  if (b - a < NARROW_CELL) return Math.log(b - a) + logStdNormalPdf((a + b) / 2);
  if (a >= 0) return logDiffExp(logUpperTail(a), logUpperTail(b));
  if (b <= 0) return logDiffExp(logUpperTail(-b), logUpperTail(-a));
  return Math.log1p(-Math.exp(logUpperTail(-a)) - Math.exp(logUpperTail(b)));
}

function logSumExp(terms: readonly number[]): number {
  const max = Math.max(...terms);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const term of terms) sum += Math.exp(term - max);
  return max + Math.log(sum);
}

/** Index drawn with probability proportional to `weights` (which sum to 1). */
function pick(weights: readonly number[], random: Random): number {
  let u = random.next();
  for (let i = 0; i < weights.length - 1; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** The observations' weights, then the prior's, normalised; the prior alone when nothing was observed. */
function mixtureWeights(weights: readonly number[], priorWeight: number): number[] {
  if (weights.length === 0) return [1];
  const all = [...weights, priorWeight];
  const total = all.reduce((sum, weight) => sum + weight, 0);
  return all.map((weight) => weight / total);
}

/**
 * Each kernel's width is the larger gap to its neighbours among the observations, the prior's
 * centre and the range's ends; the outermost kernels look only inward (Optuna's
 * consider_endpoints=False). The "magic clip" keeps widths between the range over
 * min(100, kernels + 1) and the whole range, so a cluster of equal observations cannot collapse
 * to a spike.
 */
function bandwidths(mus: readonly number[], low: number, high: number): number[] {
  const withPrior = [...mus, (low + high) / 2];
  const order = withPrior.map((_, index) => index).sort((a, b) => withPrior[a] - withPrior[b]);
  const points = [low, ...order.map((index) => withPrior[index]), high];
  const count = withPrior.length;
  const sortedWidths = order.map((_, rank) => Math.max(points[rank + 1] - points[rank], points[rank + 2] - points[rank + 1]));
  if (count >= 2) {
    sortedWidths[0] = points[2] - points[1];
    sortedWidths[count - 1] = points[count] - points[count - 1];
  }
  const widths = new Array<number>(count);
  order.forEach((index, rank) => (widths[index] = sortedWidths[rank]));
  const minWidth = (high - low) / Math.min(100, mus.length + 2);
  return widths.slice(0, mus.length).map((width) => Math.min(high - low, Math.max(minWidth, width)));
}

/** Over a numeric range with min < max; `observations` are values of the range, `weights` theirs. */
export function numericEstimator(
  range: NumericRange,
  observations: readonly number[],
  weights: readonly number[],
  priorWeight: number,
): ParzenEstimator {
  const { low, high } = scaledInterval(range);
  const observed = observations.map((value) => toScaled(range, value));
  const mus = [...observed, (low + high) / 2];
  const sigmas = [...bandwidths(observed, low, high), high - low];
  const mixture = mixtureWeights(weights, priorWeight);
  const logWeights = mixture.map(Math.log);
  const logNormalizers = mus.map((mu, k) => logNormalMass((low - mu) / sigmas[k], (high - mu) / sigmas[k]));
  return {
    sample(random) {
      const k = pick(mixture, random);
      for (let attempt = 0; attempt < MAX_REJECTIONS; attempt++) {
        const x = mus[k] + sigmas[k] * randomNormal(random);
        if (x >= low && x <= high) return fromScaled(range, x);
      }
      return fromScaled(range, mus[k]);
    },
    logPdf(value) {
      if (range.kind === 'Integer') {
        const { low: from, high: to } = integerCell(range, value);
        return logSumExp(mus.map((mu, k) => logWeights[k] + logNormalMass((from - mu) / sigmas[k], (to - mu) / sigmas[k]) - logNormalizers[k]));
      }
      const x = toScaled(range, value);
      return logSumExp(mus.map((mu, k) => logWeights[k] + logStdNormalPdf((x - mu) / sigmas[k]) - Math.log(sigmas[k]) - logNormalizers[k]));
    },
  };
}

/**
 * Over `choices` categories; `observations` are category indices. Each kernel spreads the prior
 * weight evenly over all categories and adds one to its own, then is normalised (Optuna's
 * categorical kernels without a distance function); the prior kernel is uniform.
 */
export function categoricalEstimator(
  choices: number,
  observations: readonly number[],
  weights: readonly number[],
  priorWeight: number,
): ParzenEstimator {
  const kernels = observations.length + 1;
  const smoothing = priorWeight / kernels;
  const rowTotal = smoothing * choices + 1;
  const mixture = mixtureWeights(weights, priorWeight);
  const probabilities = new Array<number>(choices).fill(mixture[mixture.length - 1] / choices);
  observations.forEach((observed, k) => {
    for (let c = 0; c < choices; c++) probabilities[c] += (mixture[k] * (smoothing + (c === observed ? 1 : 0))) / rowTotal;
  });
  return {
    sample: (random) => pick(probabilities, random),
    logPdf: (value) => Math.log(probabilities[value]),
  };
}
