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
  kind: 'number' | 'boolean' | 'text';
  /** What it means, for `kennel training-jobs create --help` and the report. */
  description: string;
}

export type RuleParameters = Readonly<Record<string, number | boolean | string>>;

/**
 * A built-in rule: a pure function over the trace. Its name is SageMaker's `rule_to_invoke`;
 * its parameters keep SageMaker's names and defaults.
 */
export interface BuiltInRule {
  name: string;
  kind: 'debug' | 'profiler';
  parameters: Readonly<Record<string, RuleParameter>>;
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
  const values: Record<string, number | boolean | string> = {};
  for (const [name, parameter] of Object.entries(rule.parameters)) values[name] = parse(rule, name, parameter, parameter.default);
  for (const [name, text] of Object.entries(given)) {
    if (CONFIGURATION_KEYS.has(name) || /^(base_trial|other_trial_\d+)$/.test(name)) continue;
    const parameter = Object.hasOwn(rule.parameters, name) ? rule.parameters[name] : undefined;
    if (parameter === undefined) {
      const known = Object.keys(rule.parameters);
      throw new DomainError('ValidationError', `${rule.name} has no parameter ${name}; its parameters are ${known.length > 0 ? known.join(', ') : 'none'}`, { field: 'RuleParameters' });
    }
    values[name] = parse(rule, name, parameter, text);
  }
  return values;
}

/** Keys that configure how SageMaker runs a rule rather than what it checks: Kennel evaluates every rule on every recorded step, on the one set of collections it records. */
const CONFIGURATION_KEYS = new Set(['rule_to_invoke', 'action_json', 'collection_names', 'use_losses_collection', 'mode', 'scan_interval_us']);

function parse(rule: BuiltInRule, name: string, parameter: RuleParameter, text: string): number | boolean | string {
  if (parameter.kind === 'text') return text;
  if (parameter.kind === 'boolean') {
    if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
    throw new DomainError('ValidationError', `${rule.name} parameter ${name} must be True or False, not "${text}"`, { field: 'RuleParameters' });
  }
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new DomainError('ValidationError', `${rule.name} parameter ${name} must be a number, not "${text}"`, { field: 'RuleParameters' });
  }
  return value;
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
