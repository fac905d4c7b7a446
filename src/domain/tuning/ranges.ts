import { DomainError } from '../../core/errors.ts';
import type { ParameterRange, ParameterValues, ScalingType, SearchSpace } from './search-space.ts';

export type TuningStrategy = 'Random' | 'Grid' | 'Bayesian' | 'Hyperband';

export type NumericRange = Extract<ParameterRange, { kind: 'Continuous' | 'Integer' }>;
type CategoricalRange = Extract<ParameterRange, { kind: 'Categorical' }>;

/**
 * SageMaker's limits: its service model allows 30 ranges of each kind and 30 values per
 * categorical range, and the ranges of all kinds together may not exceed that 30 either;
 * "Resource Limits for Automatic Model Tuning" caps a Grid job at 750 training jobs.
 */
export const MAX_PARAMETER_RANGES = 30;
export const MAX_CATEGORICAL_VALUES = 30;
export const MAX_GRID_TRAINING_JOBS = 750;
/** ParameterKey and ParameterValue are at most 256 characters in the service model. */
const MAX_TEXT_LENGTH = 256;

/**
 * SageMaker documents Auto only as "chooses the best scale". Kennel picks Logarithmic when the
 * range is positive and spans at least two orders of magnitude (a learning rate from 0.001 to
 * 0.1, a batch size from 16 to 2048), where a linear draw would spend nearly every trial in the
 * top decade; anything narrower, or reaching zero or below, is searched linearly.
 */
const AUTO_LOGARITHMIC_RATIO = 100;

/** The scaling a numeric range is searched with, Auto resolved. */
export function resolveScaling(range: NumericRange): Exclude<ScalingType, 'Auto'> {
  if (range.scaling !== 'Auto') return range.scaling;
  return range.min > 0 && range.max / range.min >= AUTO_LOGARITHMIC_RATIO ? 'Logarithmic' : 'Linear';
}

/** Where a range sits in a CreateHyperParameterTuningJob request, for error fields. */
function rangeField(space: SearchSpace, index: number): string {
  const kind = space[index].kind;
  const position = space.slice(0, index).filter((range) => range.kind === kind).length;
  return `HyperParameterTuningJobConfig.ParameterRanges.${kind}ParameterRanges[${position}]`;
}

function invalid(message: string, field: string, parameter?: string): DomainError {
  return new DomainError('ValidationError', message, parameter === undefined ? { field } : { field, parameter });
}

/**
 * Refuses, before anything runs, a search space SageMaker would refuse or that no strategy
 * could search: each error names the range and says how to fix it.
 */
export function validateSearchSpace(space: SearchSpace, strategy: TuningStrategy): void {
  const rangesField = 'HyperParameterTuningJobConfig.ParameterRanges';
  if (space.length === 0) {
    throw invalid('ParameterRanges has no ranges; give at least one hyperparameter range to tune', rangesField);
  }
  if (space.length > MAX_PARAMETER_RANGES) {
    throw invalid(
      `ParameterRanges has ${space.length} ranges; SageMaker tunes at most ${MAX_PARAMETER_RANGES} hyperparameters in one job, so make some of them static`,
      rangesField,
    );
  }
  const seen = new Map<string, string>();
  space.forEach((range, index) => {
    const field = rangeField(space, index);
    if (range.name.length === 0 || range.name.length > MAX_TEXT_LENGTH) {
      throw invalid(`${field}.Name must be 1 to ${MAX_TEXT_LENGTH} characters long`, `${field}.Name`);
    }
    const earlier = seen.get(range.name);
    if (earlier !== undefined) {
      throw invalid(
        `Hyperparameter ${JSON.stringify(range.name)} has two ranges (${earlier} and ${field}); give each hyperparameter one range`,
        `${field}.Name`,
        range.name,
      );
    }
    seen.set(range.name, field);
    if (range.kind === 'Categorical') validateCategorical(range, field);
    else validateNumeric(range, field);
    if (strategy === 'Grid' && range.kind !== 'Categorical') {
      const kind = range.kind === 'Integer' ? 'an Integer' : 'a Continuous';
      throw invalid(
        `The Grid strategy searches only categorical ranges, but ${JSON.stringify(range.name)} is ${kind} range; ` +
          'list the values to try in a CategoricalParameterRange, or use the Random or Bayesian strategy',
        field,
        range.name,
      );
    }
  });
  if (strategy === 'Grid' && gridSize(space) > MAX_GRID_TRAINING_JOBS) {
    throw invalid(
      `The Grid strategy would run ${gridSize(space)} training jobs (every combination of the categorical values), ` +
        `over SageMaker's limit of ${MAX_GRID_TRAINING_JOBS}; list fewer values`,
      rangesField,
    );
  }
}

function validateCategorical(range: CategoricalRange, field: string): void {
  const name = JSON.stringify(range.name);
  if (range.values.length === 0) {
    throw invalid(`Categorical range ${name} has no values; list 1 to ${MAX_CATEGORICAL_VALUES} values to try`, `${field}.Values`, range.name);
  }
  if (range.values.length > MAX_CATEGORICAL_VALUES) {
    throw invalid(
      `Categorical range ${name} has ${range.values.length} values; SageMaker allows at most ${MAX_CATEGORICAL_VALUES}, so list fewer`,
      `${field}.Values`,
      range.name,
    );
  }
  const values = new Set<string>();
  for (const value of range.values) {
    if (value.length > MAX_TEXT_LENGTH) {
      throw invalid(`Categorical range ${name} has a value longer than ${MAX_TEXT_LENGTH} characters`, `${field}.Values`, range.name);
    }
    if (values.has(value)) {
      throw invalid(`Categorical range ${name} lists ${JSON.stringify(value)} twice; list each value once`, `${field}.Values`, range.name);
    }
    values.add(value);
  }
}

function validateNumeric(range: NumericRange, field: string): void {
  const name = JSON.stringify(range.name);
  for (const [bound, value] of [['MinValue', range.min], ['MaxValue', range.max]] as const) {
    if (!Number.isFinite(value)) {
      throw invalid(`${range.kind} range ${name}: ${bound} must be a finite number`, `${field}.${bound}`, range.name);
    }
    if (range.kind === 'Integer' && !Number.isInteger(value)) {
      throw invalid(`Integer range ${name}: ${bound} must be an integer, got ${value}`, `${field}.${bound}`, range.name);
    }
  }
  // A range with MinValue equal to MaxValue is a constant: allowed, and every trial gets that value.
  if (range.min > range.max) {
    throw invalid(
      `${range.kind} range ${name}: MinValue ${range.min} is greater than MaxValue ${range.max}; swap them`,
      `${field}.MinValue`,
      range.name,
    );
  }
  if (range.scaling === 'Logarithmic' && range.min <= 0) {
    throw invalid(
      `${range.kind} range ${name}: Logarithmic scaling needs MinValue greater than 0, got ${range.min}; raise MinValue or use Linear scaling`,
      `${field}.ScalingType`,
      range.name,
    );
  }
  if (range.scaling === 'ReverseLogarithmic') {
    if (range.kind === 'Integer') {
      throw invalid(
        `Integer range ${name}: ReverseLogarithmic scaling is for continuous ranges only; use Linear, Logarithmic or Auto`,
        `${field}.ScalingType`,
        range.name,
      );
    }
    if (range.min < 0 || range.max >= 1) {
      throw invalid(
        `Continuous range ${name}: ReverseLogarithmic scaling needs the whole range within 0 <= x < 1, got ${range.min} to ${range.max}; narrow the range or use Linear scaling`,
        `${field}.ScalingType`,
        range.name,
      );
    }
  }
}

/** How many training jobs the Grid strategy runs: the product of the categorical ranges' sizes. */
export function gridSize(space: SearchSpace): number {
  return space.reduce((product, range) => (range.kind === 'Categorical' ? product * range.values.length : product), 1);
}

/**
 * How many distinct proposals the space holds (Infinity with a continuous range), for SageMaker's
 * check that MaxNumberOfTrainingJobs does not exceed the combinations there are.
 */
export function combinationCount(space: SearchSpace): number {
  return space.reduce((product, range) => {
    if (range.kind === 'Categorical') return product * range.values.length;
    if (range.kind === 'Integer') return product * (range.max - range.min + 1);
    return range.min === range.max ? product : Infinity;
  }, 1);
}

/**
 * A proposal as SageMaker hands hyperparameters to a training job: strings. Integers have no
 * decimals; continuous values use the shortest text that reads back as the same double.
 */
export function formatValues(values: ParameterValues, space: SearchSpace): Record<string, string> {
  const formatted: Record<string, string> = {};
  for (const range of space) {
    const value = values[range.name];
    if (range.kind === 'Categorical') {
      if (typeof value !== 'string' || !range.values.includes(value)) {
        throw invalid(`Hyperparameter ${JSON.stringify(range.name)} must be one of ${range.values.join(', ')}, got ${String(value)}`, range.name);
      }
      formatted[range.name] = value;
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || (range.kind === 'Integer' && !Number.isInteger(value))) {
      const expected = range.kind === 'Integer' ? 'an integer' : 'a finite number';
      throw invalid(`Hyperparameter ${JSON.stringify(range.name)} must be ${expected}, got ${String(value)}`, range.name);
    }
    formatted[range.name] = String(value);
  }
  return formatted;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A JSON-quoted value ("\"64\""), as the SageMaker Python SDK writes hyperparameters, unwrapped. */
function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

/**
 * The values of a training job's string hyperparameters for the ranges of `space` (a parent
 * job's trials, read back for warm start). Other hyperparameters are static and ignored; a
 * missing or unreadable value, or one outside its range, is refused.
 */
export function parseValues(hyperparameters: Readonly<Record<string, string>>, space: SearchSpace): ParameterValues {
  const values: Record<string, number | string> = {};
  for (const range of space) {
    const raw = hyperparameters[range.name];
    const name = JSON.stringify(range.name);
    if (raw === undefined) throw invalid(`Hyperparameter ${name} is missing; it has a range, so every trial needs a value`, range.name);
    if (range.kind === 'Categorical') {
      const value = range.values.includes(raw) ? raw : unquote(raw);
      if (!range.values.includes(value)) {
        throw invalid(`Hyperparameter ${name} must be one of ${range.values.join(', ')}, got ${JSON.stringify(raw)}`, range.name);
      }
      values[range.name] = value;
      continue;
    }
    const text = unquote(raw.trim());
    const value = Number(text);
    if (!DECIMAL.test(text) || (range.kind === 'Integer' && !Number.isInteger(value))) {
      const expected = range.kind === 'Integer' ? 'an integer' : 'a decimal number';
      throw invalid(`Hyperparameter ${name} must be ${expected}, got ${JSON.stringify(raw)}`, range.name);
    }
    if (value < range.min || value > range.max) {
      throw invalid(`Hyperparameter ${name} is ${value}, outside its range ${range.min} to ${range.max}`, range.name);
    }
    values[range.name] = value;
  }
  return values;
}
