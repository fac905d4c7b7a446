import { DomainError } from '../../core/errors.ts';
import type { HeadHyperParameters } from './training-job.ts';

export const DEFAULT_HYPERPARAMETERS: Readonly<HeadHyperParameters> = {
  learning_rate: 0.001,
  batch_size: 64,
  epochs: 10,
  hidden_units: 128,
  seed: 0,
};

interface Rule {
  integer: boolean;
  /** Inclusive unless minExclusive is set. */
  min: number;
  minExclusive?: boolean;
  /** Inclusive. */
  max: number;
  description: string;
}

const RULES: Record<keyof HeadHyperParameters, Rule> = {
  learning_rate: {
    integer: false,
    min: 0,
    minExclusive: true,
    max: 1,
    description: 'a number greater than 0 and at most 1',
  },
  batch_size: { integer: true, min: 1, max: 65536, description: 'an integer from 1 to 65536' },
  epochs: { integer: true, min: 1, max: 10000, description: 'an integer from 1 to 10000' },
  hidden_units: { integer: true, min: 1, max: 16384, description: 'an integer from 1 to 16384' },
  seed: { integer: true, min: 0, max: 4294967295, description: 'an integer from 0 to 4294967295' },
};

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Reads the head's hyperparameters the way SageMaker passes them: a map whose values may be
 * numbers or strings ("0.01", "1e-3", or JSON-quoted "\"64\"" as the SageMaker Python SDK writes
 * them). Missing names take the defaults. Names starting with `sagemaker_` or `_` are SageMaker's
 * own bookkeeping (e.g. `_tuning_objective_metric`) and are ignored; any other unknown name is
 * refused so a typo does not silently train with a default.
 */
export function parseHyperParameters(input: Readonly<Record<string, string | number>>): HeadHyperParameters {
  const result: HeadHyperParameters = { ...DEFAULT_HYPERPARAMETERS };
  for (const [name, raw] of Object.entries(input)) {
    if (name.startsWith('sagemaker_') || name.startsWith('_')) continue;
    if (!Object.hasOwn(RULES, name)) {
      throw new DomainError(
        'ValidationError',
        `Unknown hyperparameter ${JSON.stringify(name)}; the image-classifier accepts ${Object.keys(RULES).join(', ')}`,
        { field: name },
      );
    }
    const key = name as keyof HeadHyperParameters;
    result[key] = parseValue(key, raw);
  }
  return result;
}

function parseValue(name: keyof HeadHyperParameters, raw: string | number): number {
  const rule = RULES[name];
  const value = typeof raw === 'number' ? raw : parseNumber(raw);
  const inRange =
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.minExclusive ? value > rule.min : value >= rule.min) &&
    value <= rule.max;
  if (!inRange) {
    const message = `Hyperparameter ${name} must be ${rule.description}, got ${JSON.stringify(raw)}`;
    throw new DomainError('ValidationError', message, { field: name });
  }
  return value;
}

function parseNumber(raw: string): number {
  const text = raw.trim().replace(/^"(.*)"$/, '$1').trim();
  return DECIMAL.test(text) ? Number(text) : Number.NaN;
}
