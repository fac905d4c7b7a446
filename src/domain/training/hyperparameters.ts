import { DomainError } from '../../core/errors.ts';
import type { HeadHyperParameters, Preprocessing } from './training-job.ts';

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

/** What the hyperparameters may say about the backbone; anything left out is read from the model or defaulted. */
export interface BackboneSettings {
  inputName?: string;
  outputName?: string;
  featureSize?: number;
  preprocessing?: Partial<Preprocessing>;
}

export interface ImageClassifierHyperParameters {
  head: HeadHyperParameters;
  backbone: BackboneSettings;
}

type BackboneParameter = (typeof BACKBONE_PARAMETERS)[number];
const BACKBONE_PARAMETERS = [
  'backbone_input_name',
  'backbone_output_name',
  'backbone_feature_size',
  'resize_size',
  'crop_size',
  'normalize_mean',
  'normalize_std',
  'input_layout',
] as const;

/** Every hyperparameter name the image classifier accepts. */
export const HYPERPARAMETER_NAMES: readonly string[] = [...Object.keys(RULES), ...BACKBONE_PARAMETERS];

/**
 * Reads the image classifier's hyperparameters the way SageMaker passes them: a map whose values
 * may be numbers or strings ("0.01", "1e-3", or JSON-quoted "\"64\"" as the SageMaker Python SDK
 * writes them). Missing names take the defaults. Names starting with `sagemaker_` or `_` are
 * SageMaker's own bookkeeping (e.g. `_tuning_objective_metric`) and are ignored; any other unknown
 * name is refused so a typo does not silently train with a default.
 */
export function parseHyperParameters(input: Readonly<Record<string, string | number>>): ImageClassifierHyperParameters {
  const head: HeadHyperParameters = { ...DEFAULT_HYPERPARAMETERS };
  const backbone: BackboneSettings = {};
  const preprocessing: Partial<Preprocessing> = {};
  for (const [name, raw] of Object.entries(input)) {
    if (name.startsWith('sagemaker_') || name.startsWith('_')) continue;
    if (Object.hasOwn(RULES, name)) {
      const key = name as keyof HeadHyperParameters;
      head[key] = parseValue(key, raw);
      continue;
    }
    if (!(BACKBONE_PARAMETERS as readonly string[]).includes(name)) {
      throw new DomainError(
        'ValidationError',
        `Unknown hyperparameter ${JSON.stringify(name)}; the image-classifier accepts ${HYPERPARAMETER_NAMES.join(', ')}`,
        { field: name },
      );
    }
    const text = unquote(String(raw));
    switch (name as BackboneParameter) {
      case 'backbone_input_name':
        backbone.inputName = nonEmpty(name, text);
        break;
      case 'backbone_output_name':
        backbone.outputName = nonEmpty(name, text);
        break;
      case 'backbone_feature_size':
        backbone.featureSize = integerIn(name, raw, 1, 1_000_000);
        break;
      case 'resize_size':
        preprocessing.resizeSize = integerIn(name, raw, 1, 4096);
        break;
      case 'crop_size':
        preprocessing.cropSize = integerIn(name, raw, 1, 4096);
        break;
      case 'normalize_mean':
        preprocessing.mean = triple(name, text, false);
        break;
      case 'normalize_std':
        preprocessing.std = triple(name, text, true);
        break;
      case 'input_layout':
        if (text !== 'NCHW' && text !== 'NHWC') {
          throw new DomainError('ValidationError', `Hyperparameter input_layout must be NCHW or NHWC, got ${JSON.stringify(raw)}`, { field: name });
        }
        preprocessing.layout = text;
        break;
    }
  }
  if (Object.keys(preprocessing).length > 0) backbone.preprocessing = preprocessing;
  return { head, backbone };
}

function nonEmpty(name: string, text: string): string {
  if (text === '') throw new DomainError('ValidationError', `Hyperparameter ${name} must not be empty`, { field: name });
  return text;
}

function integerIn(name: string, raw: string | number, min: number, max: number): number {
  const value = typeof raw === 'number' ? raw : parseNumber(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DomainError('ValidationError', `Hyperparameter ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`, {
      field: name,
    });
  }
  return value;
}

/** "0.485,0.456,0.406" (or a JSON array) → three numbers; standard deviations must be positive. */
function triple(name: string, text: string, positive: boolean): [number, number, number] {
  const parts = text.replace(/^\[|\]$/g, '').split(',').map((part) => parseNumber(part));
  const ok = parts.length === 3 && parts.every((value) => Number.isFinite(value) && (!positive || value > 0));
  if (!ok) {
    throw new DomainError(
      'ValidationError',
      `Hyperparameter ${name} must be three ${positive ? 'positive ' : ''}numbers separated by commas (red,green,blue), got ${JSON.stringify(text)}`,
      { field: name },
    );
  }
  return parts as [number, number, number];
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
  const text = unquote(raw);
  return DECIMAL.test(text) ? Number(text) : Number.NaN;
}

/** The SageMaker Python SDK JSON-encodes every value: `"\"64\""`. */
function unquote(raw: string): string {
  return raw.trim().replace(/^"(.*)"$/, '$1').trim();
}
