import { deriveSeed, randomNormal, seededRandom } from '../../core/random.ts';
import { proposalRandom } from './proposal-random.ts';
import type { ParameterValues, SearchSpace, TrialRecord } from './search-space.ts';
import type { Sampler } from './strategy.ts';

/**
 * Standard functions to measure a strategy on, all minimised. Each is cheap, has a known
 * minimum, and is defined over a SageMaker search space.
 */
export interface TestFunction {
  name: string;
  space: SearchSpace;
  /** The noise-free objective. */
  evaluate(params: ParameterValues): number;
  /** Standard deviation of the Gaussian noise on each observed value. */
  noise: number;
  minimum: number;
}

const num = (params: ParameterValues, name: string) => params[name] as number;

/** Branin-Hoo over [-5, 10] x [0, 15]: three global minima of 0.397887. */
export const BRANIN: TestFunction = {
  name: 'Branin (2-D)',
  space: [
    { kind: 'Continuous', name: 'x1', min: -5, max: 10, scaling: 'Linear' },
    { kind: 'Continuous', name: 'x2', min: 0, max: 15, scaling: 'Linear' },
  ],
  evaluate(params) {
    const x1 = num(params, 'x1');
    const x2 = num(params, 'x2');
    const b = 5.1 / (4 * Math.PI * Math.PI);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
  noise: 0,
  minimum: 0.397887,
};

const HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2];
const HARTMANN_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const HARTMANN_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((p) => p * 1e-4));

/** Hartmann-6 over the unit hypercube: minimum -3.32237, with several local minima. */
export const HARTMANN6: TestFunction = {
  name: 'Hartmann-6 (6-D)',
  space: Array.from({ length: 6 }, (_, j) => ({ kind: 'Continuous' as const, name: `x${j + 1}`, min: 0, max: 1, scaling: 'Linear' as const })),
  evaluate(params) {
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      let exponent = 0;
      for (let j = 0; j < 6; j++) exponent += HARTMANN_A[i][j] * (num(params, `x${j + 1}`) - HARTMANN_P[i][j]) ** 2;
      sum += HARTMANN_ALPHA[i] * Math.exp(-exponent);
    }
    return -sum;
  },
  noise: 0,
  minimum: -3.32237,
};

const OPTIMIZER_PENALTY: Record<string, number> = { sgd: 1, adam: 0, rmsprop: 0.5 };

/**
 * A quadratic bowl shaped like a training job's search space: every scaling and kind SageMaker
 * has, with the optimum at learning_rate 10^-2.5, momentum 0.99, 128 units and adam, and noise
 * on every observation as a validation loss has.
 */
export const NOISY_QUADRATIC: TestFunction = {
  name: 'noisy quadratic (4-D, mixed)',
  space: [
    { kind: 'Continuous', name: 'learning_rate', min: 1e-5, max: 1e-1, scaling: 'Logarithmic' },
    { kind: 'Continuous', name: 'momentum', min: 0, max: 0.9999, scaling: 'ReverseLogarithmic' },
    { kind: 'Integer', name: 'units', min: 8, max: 1024, scaling: 'Auto' },
    { kind: 'Categorical', name: 'optimizer', values: ['sgd', 'adam', 'rmsprop'] },
  ],
  evaluate(params) {
    return (
      (Math.log10(num(params, 'learning_rate')) + 2.5) ** 2 +
      0.5 * (Math.log10(1 - num(params, 'momentum')) + 2) ** 2 +
      0.25 * (Math.log2(num(params, 'units')) - 7) ** 2 +
      OPTIMIZER_PENALTY[params.optimizer as string]
    );
  },
  noise: 0.3,
  minimum: 0,
};

/**
 * Runs `budget` trials of `sampler` on `fn`, one at a time, and returns the noise-free value of
 * the trial a tuning job would pick as best: the one with the best observed value.
 */
export function bestFound(fn: TestFunction, sampler: Sampler, budget: number, seed: number): number {
  const history: TrialRecord[] = [];
  let best: { observed: number; value: number } | undefined;
  for (let number = 0; number < budget; number++) {
    const params = sampler.propose(fn.space, history, 'Minimize', proposalRandom(seed, number));
    if (params === undefined) break;
    const value = fn.evaluate(params);
    const observed = value + fn.noise * randomNormal(seededRandom(deriveSeed(seed, `noise:${number}`)));
    history.push({ number, params, state: 'complete', intermediate: [observed], value: observed });
    if (best === undefined || observed < best.observed) best = { observed, value };
  }
  return best?.value ?? Infinity;
}
