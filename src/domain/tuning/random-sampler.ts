import type { Random } from '../../core/random.ts';
import { fromScaled, scaledInterval } from './scaled-space.ts';
import type { ParameterRange, ParameterValues, SearchSpace } from './search-space.ts';
import type { Sampler } from './strategy.ts';

/**
 * One value drawn uniformly in the range's scaled space: uniform in ln x for Logarithmic, in
 * ln(1 - x) for ReverseLogarithmic; an integer is the rounded draw over its widened interval, so
 * that every integer, the ends included, has the same chance on a Linear scale.
 */
export function sampleUniform(range: ParameterRange, random: Random): number | string {
  if (range.kind === 'Categorical') return range.values[Math.floor(random.next() * range.values.length)];
  const { low, high } = scaledInterval(range);
  return fromScaled(range, low + random.next() * (high - low));
}

/** A value for every range, each drawn uniformly. */
export function sampleSpace(space: SearchSpace, random: Random): ParameterValues {
  return Object.fromEntries(space.map((range) => [range.name, sampleUniform(range, random)]));
}

/** SageMaker's Random strategy: every proposal independent of the results so far. */
export function randomSampler(): Sampler {
  return { propose: (space, _history, _objective, random) => sampleSpace(space, random) };
}
