import { gridSize } from './ranges.ts';
import type { ParameterValues, SearchSpace, TrialRecord } from './search-space.ts';
import type { Sampler } from './strategy.ts';

/** A combination's identity: its values in the order of the space, as the strings SageMaker passes. */
function combinationKey(space: SearchSpace, params: ParameterValues): string | undefined {
  const values: string[] = [];
  for (const range of space) {
    const value = params[range.name];
    if (value === undefined) return undefined;
    values.push(String(value));
  }
  return JSON.stringify(values);
}

/** The index-th combination, the first range varying slowest, as nested loops in the order of the space would give. */
function combination(space: SearchSpace, index: number): ParameterValues {
  const values: Record<string, string> = {};
  let rest = index;
  for (let i = space.length - 1; i >= 0; i--) {
    const range = space[i];
    if (range.kind !== 'Categorical') continue;
    values[range.name] = range.values[rest % range.values.length];
    rest = Math.floor(rest / range.values.length);
  }
  return Object.fromEntries(space.map((range) => [range.name, values[range.name]]));
}

/**
 * SageMaker's Grid strategy over categorical ranges: every combination once, in a fixed order,
 * then nothing. What was tried is read from the trials' values, not counted, so that a job that
 * restarted, or was warm-started, skips exactly the combinations it already has, whatever became
 * of them (a failed trial is retried by the job's retry policy, not proposed again here).
 */
export function gridSampler(): Sampler {
  return {
    propose(space: SearchSpace, history: readonly TrialRecord[]): ParameterValues | undefined {
      const tried = new Set(history.map((trial) => combinationKey(space, trial.params)));
      const size = gridSize(space);
      for (let index = 0; index < size; index++) {
        const candidate = combination(space, index);
        if (!tried.has(combinationKey(space, candidate))) return candidate;
      }
      return undefined;
    },
  };
}
