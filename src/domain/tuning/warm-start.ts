import type { ParameterRange, SearchSpace, TrialRecord } from './search-space.ts';

export type WarmStartType = 'IdenticalDataAndAlgorithm' | 'TransferLearning';

/** A parent's value for `range` as the current space holds it, or undefined if it has none there. */
function fit(range: ParameterRange, value: number | string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  if (range.kind === 'Categorical') return range.values.includes(String(value)) ? String(value) : undefined;
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(number) || number < range.min || number > range.max) return undefined;
  return range.kind === 'Integer' && !Number.isInteger(number) ? undefined : number;
}

/**
 * The trials of parent tuning jobs as history for the samplers of a warm-started job
 * (HyperParameterTuningJobWarmStartConfig). Only finished trials carry a result: complete ones
 * with their value, and pruned ones, which TPE ranks by how far they got. Parameters that are no longer tuned (made
 * static) are dropped from a trial's values.
 *
 * IdenticalDataAndAlgorithm keeps a trial only if it has a value inside the current range for
 * every parameter: its result is then a point of the space being searched. TransferLearning, where
 * data or algorithm changed and results are hints, also keeps a trial that lacks a parameter (one
 * that was static in the parent, or whose value is outside the new range) and leaves that value
 * out: TPE then leaves the trial out of that parameter's estimators only, as Optuna does with
 * trials that lack a parameter, and Grid does not count it as a combination tried. A trial left
 * with no parameter of the space says nothing and is dropped.
 *
 * The trials are numbered -N ... -1, parents in the order given, so that they come before the new
 * job's trials (0, 1, ...) in trial order and never share a number with them.
 */
export function warmStartHistory(parents: readonly (readonly TrialRecord[])[], type: WarmStartType, space: SearchSpace): TrialRecord[] {
  const kept: TrialRecord[] = [];
  for (const trials of parents) {
    for (const trial of [...trials].sort((a, b) => a.number - b.number)) {
      if (!(trial.state === 'pruned' || (trial.state === 'complete' && trial.value !== undefined))) continue;
      const params: Record<string, number | string> = {};
      for (const range of space) {
        const value = fit(range, trial.params[range.name]);
        if (value !== undefined) params[range.name] = value;
      }
      const found = Object.keys(params).length;
      if (type === 'IdenticalDataAndAlgorithm' ? found < space.length : found === 0) continue;
      kept.push({ ...trial, params });
    }
  }
  return kept.map((trial, index) => ({ ...trial, number: index - kept.length }));
}
