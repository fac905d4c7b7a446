import { RE2JS } from 're2js';
import { DomainError } from '../../core/errors.ts';
import type { TrainingTrace } from './trace.ts';

/** SageMaker's RuleEvaluationStatus, less Stopping and Stopped (which describe the evaluation job, not the rule). */
export type RuleStatus = 'InProgress' | 'NoIssuesFound' | 'IssuesFound' | 'Error';

export interface RuleFinding {
  status: RuleStatus;
  /** The step at which the rule fired. */
  step?: number;
  /** What the rule saw, in a sentence: DescribeTrainingJob's StatusDetails. */
  details: string;
}

/** Where the job is: a rule that has not seen enough is InProgress while the job runs and NoIssuesFound once it has ended. */
export interface RuleContext {
  ended: boolean;
}

/** One parameter, as SageMaker's RuleParameters carry it: a string, with a default. */
export interface RuleParameter {
  default: string;
  /** `count`: a whole number, 0 or more; `regex`: a regular expression, compiled when read. */
  kind: 'number' | 'count' | 'boolean' | 'regex';
  /** The smallest value allowed, for a `number` or a `count`. */
  min?: number;
  /** What it means, for `kennel training-jobs create --help` and the report. */
  description: string;
}

/** A `regex` parameter, compiled: RE2's syntax and linear-time matching, so that no pattern can stall the server (no backreferences or lookaround). */
export interface TextPattern {
  source: string;
  /** Whether the pattern matches anywhere in `text`. */
  test(text: string): boolean;
}

export type RuleParameters = Readonly<Record<string, number | boolean | TextPattern | undefined>>;

/**
 * A built-in rule: a pure function over the trace. Its name is SageMaker's `rule_to_invoke`;
 * its parameters keep SageMaker's names and defaults.
 */
export interface BuiltInRule {
  name: string;
  kind: 'debug' | 'profiler';
  parameters: Readonly<Record<string, RuleParameter>>;
  /**
   * SageMaker's parameters of the rule that name what SageMaker's hook records (tensor and
   * collection regexes, sample counts) and have nothing to apply to in Kennel's trace: accepted,
   * so that a configuration written for SageMaker runs unchanged, and not used.
   */
  ignored?: readonly string[];
  /** What a finding means, and what to try: the report shows both. */
  meaning: string;
  advice: string;
  evaluate(trace: TrainingTrace, parameters: RuleParameters, context: RuleContext): RuleFinding;
}

/**
 * The rule's parameters from RuleParameters: every one given must be the rule's and read as
 * its kind; the rest take their defaults. `rule_to_invoke`, `action_json` and SageMaker's
 * trial and collection keys are the configuration's, not the rule's, and are passed over.
 */
export function readRuleParameters(rule: BuiltInRule, given: Readonly<Record<string, string>>): RuleParameters {
  const values: Record<string, number | boolean | TextPattern | undefined> = {};
  for (const [name, parameter] of Object.entries(rule.parameters)) values[name] = parse(rule, name, parameter, parameter.default);
  for (const [name, text] of Object.entries(given)) {
    if (CONFIGURATION_KEYS.has(name) || /^(base_trial|other_trial_\d+)$/.test(name) || rule.ignored?.includes(name)) continue;
    const parameter = Object.hasOwn(rule.parameters, name) ? rule.parameters[name] : undefined;
    if (parameter === undefined) {
      const known = Object.keys(rule.parameters);
      throw new DomainError('ValidationError', `${rule.name} has no parameter ${name}; its parameters are ${known.length > 0 ? [...known, ...(rule.ignored ?? [])].join(', ') : 'none'}`, { field: 'RuleParameters' });
    }
    values[name] = parse(rule, name, parameter, text);
  }
  return values;
}

/** Keys that configure how SageMaker runs a rule rather than what it checks: Kennel evaluates every rule on every recorded step, on the one set of collections it records. */
const CONFIGURATION_KEYS = new Set(['rule_to_invoke', 'action_json', 'collection_names', 'use_losses_collection', 'mode', 'scan_interval_us']);

const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

function parse(rule: BuiltInRule, name: string, parameter: RuleParameter, text: string): number | boolean | TextPattern | undefined {
  const refuse = (what: string) => new DomainError('ValidationError', `${rule.name} parameter ${name} must be ${what}, not "${text}"`, { field: 'RuleParameters' });
  switch (parameter.kind) {
    case 'regex':
      if (text === '') return undefined;
      try {
        const compiled = RE2JS.compile(text);
        return { source: text, test: (candidate) => compiled.matcher(candidate).find() };
      } catch (error) {
        throw refuse(`a regular expression RE2 accepts (${error instanceof Error ? error.message : String(error)})`);
      }
    case 'boolean':
      if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
      throw refuse('True or False');
    case 'count':
      if (!/^\d+$/.test(text)) throw refuse(`a whole number, ${parameter.min ?? 0} or more`);
      if (parameter.min !== undefined && Number(text) < parameter.min) throw refuse(`at least ${parameter.min}`);
      return Number(text);
    case 'number': {
      const value = Number(text);
      if (!DECIMAL.test(text) || !Number.isFinite(value)) throw refuse('a number');
      if (parameter.min !== undefined && value < parameter.min) throw refuse(`at least ${parameter.min}`);
      return value;
    }
  }
}

/** A number parameter, read where the rule knows it is one. */
export function numberParameter(parameters: RuleParameters, name: string): number {
  return parameters[name] as number;
}

/** The finding of a rule that has found nothing (yet). */
export function nothingFound(context: RuleContext, details: string): RuleFinding {
  return context.ended ? { status: 'NoIssuesFound', details } : { status: 'InProgress', details };
}

export function issueFound(step: number | undefined, details: string): RuleFinding {
  return { status: 'IssuesFound', ...(step !== undefined ? { step } : {}), details };
}
