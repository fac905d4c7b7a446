/**
 * What a tuning job searches, in SageMaker's terms (HyperParameterTuningJobConfig.ParameterRanges).
 * Values go to training jobs as strings, as SageMaker passes hyperparameters.
 */
export type ScalingType = 'Auto' | 'Linear' | 'Logarithmic' | 'ReverseLogarithmic';

export type ParameterRange =
  | { kind: 'Continuous'; name: string; min: number; max: number; scaling: ScalingType }
  | { kind: 'Integer'; name: string; min: number; max: number; scaling: ScalingType }
  | { kind: 'Categorical'; name: string; values: readonly string[] };

export type SearchSpace = readonly ParameterRange[];

/** One proposal: a value per range, numbers for Continuous and Integer, strings for Categorical. */
export type ParameterValues = Readonly<Record<string, number | string>>;

export type ObjectiveType = 'Minimize' | 'Maximize';

/** A trial as the strategies see it: what was tried, and what it reported. */
export interface TrialRecord {
  /** 0-based, in proposal order. */
  number: number;
  params: ParameterValues;
  state: 'running' | 'complete' | 'pruned' | 'failed';
  /** The objective metric after each epoch reported so far (index 0 = epoch 1). */
  intermediate: readonly number[];
  /** The final objective of a complete trial. */
  value?: number;
}
