import { DomainError } from '../../core/errors.ts';
import { splitImage } from '../training/algorithms.ts';
import { builtInRule } from './built-in-rules.ts';
import { DEFAULT_PROFILING_INTERVAL_MS, DEFAULT_SAVE_INTERVAL, PROFILING_INTERVALS_MS } from './hook.ts';
import { numberParameter, readRuleParameters, type BuiltInRule, type RuleParameters } from './rule.ts';

/**
 * A training job's debugger and profiler settings: CreateTrainingJob's DebugHookConfig,
 * DebugRuleConfigurations, ProfilerConfig and ProfilerRuleConfigurations, checked and kept
 * as sent (DescribeTrainingJob gives them back), with what Kennel reads from them.
 */

/** One rule configuration, as DebugRuleConfiguration or ProfilerRuleConfiguration carries it. */
export interface RuleConfiguration {
  /** RuleConfigurationName: unique among the job's rules. */
  name: string;
  kind: BuiltInRule['kind'];
  /** The built-in rule, from RuleParameters' `rule_to_invoke`. */
  rule: string;
  evaluatorImage: string;
  /** RuleParameters, as sent. */
  parameters: Record<string, string>;
  /** `action_json`'s StopTraining: when the rule finds an issue, the jobs whose names start with this prefix are stopped. */
  stopTrainingPrefix?: string;
  /** Sent for the rule's own processing job; kept, and given back by DescribeTrainingJob. */
  instanceType?: string;
  volumeSizeInGB?: number;
  localPath?: string;
  s3OutputPath?: string;
}

export interface CollectionConfiguration {
  name: string;
  parameters: Record<string, string>;
}

export interface DebugHookSettings {
  s3OutputPath: string;
  localPath?: string;
  hookParameters: Record<string, string>;
  collections: CollectionConfiguration[];
}

export interface ProfilerSettings {
  disabled: boolean;
  intervalMs?: number;
  s3OutputPath?: string;
  parameters?: Record<string, string>;
}

export interface DebuggerSpec {
  hook?: DebugHookSettings;
  rules: RuleConfiguration[];
  /** ProfilerConfig as sent; Kennel samples the system of every job unless it says DisableProfiler. */
  profiler?: ProfilerSettings;
  profilerRules: RuleConfiguration[];
}

/** A rule configuration before it is checked: the wire's fields, in Kennel's words. */
export type RuleConfigurationInput = Omit<RuleConfiguration, 'kind' | 'rule' | 'stopTrainingPrefix'>;

export interface DebuggerInput {
  hook?: DebugHookSettings;
  rules?: RuleConfigurationInput[];
  profiler?: ProfilerSettings;
  profilerRules?: RuleConfigurationInput[];
}

/** SageMaker's limit on each list of rule configurations. */
export const MAX_RULE_CONFIGURATIONS = 20;

/**
 * The image SageMaker's built-in rules run on: `<account>.dkr.ecr.<region>.amazonaws.com/sagemaker-debugger-rules:latest`,
 * as the SageMaker SDK builds it for each region. Kennel evaluates the rules itself, so any
 * registry and tag is accepted; `kennel/debugger-rules` names the same.
 */
const BUILT_IN_RULE_REPOSITORIES = ['sagemaker-debugger-rules', 'kennel/debugger-rules'];
/** The rules image Kennel's own CLI and specs name. */
export const DEBUGGER_RULES_IMAGE = 'kennel/debugger-rules:latest';
/** The image of custom rules (a user's own rule class): Kennel cannot run those. */
const CUSTOM_RULE_REPOSITORY = 'sagemaker-debugger-rule-evaluator';

/** Checks the settings as SageMaker would, and every rule's name and parameters as its evaluation will read them. */
export function parseDebuggerConfiguration(input: DebuggerInput, jobName: string): DebuggerSpec {
  const hook = input.hook;
  if (hook) {
    for (const source of [hook.hookParameters, ...hook.collections.map((collection) => collection.parameters)]) {
      if (source.save_interval !== undefined) saveIntervalOf(source.save_interval, 'DebugHookConfig');
    }
  }
  const profiler = input.profiler;
  if (profiler?.intervalMs !== undefined && !PROFILING_INTERVALS_MS.includes(profiler.intervalMs)) {
    throw new DomainError('ValidationError', `ProfilerConfig.ProfilingIntervalInMilliseconds must be one of ${PROFILING_INTERVALS_MS.join(', ')}, not ${profiler.intervalMs}`, {
      field: 'ProfilerConfig.ProfilingIntervalInMilliseconds',
    });
  }
  const rules = (input.rules ?? []).map((rule) => ruleConfiguration(rule, 'debug', jobName));
  const profilerRules = (input.profilerRules ?? []).map((rule) => ruleConfiguration(rule, 'profiler', jobName));
  for (const [list, field] of [[rules, 'DebugRuleConfigurations'], [profilerRules, 'ProfilerRuleConfigurations']] as const) {
    if (list.length > MAX_RULE_CONFIGURATIONS) {
      throw new DomainError('ValidationError', `${field} holds ${list.length} rules; at most ${MAX_RULE_CONFIGURATIONS} are allowed`, { field });
    }
  }
  const seen = new Set<string>();
  for (const rule of [...rules, ...profilerRules]) {
    if (seen.has(rule.name)) throw new DomainError('ValidationError', `RuleConfigurationName ${rule.name} is used twice: each rule configuration needs its own name`, { field: 'RuleConfigurationName' });
    seen.add(rule.name);
  }
  if (profiler?.disabled && profilerRules.length > 0) {
    throw new DomainError('ValidationError', 'ProfilerRuleConfigurations need the profiler: remove ProfilerConfig.DisableProfiler or the profiler rules', { field: 'ProfilerConfig.DisableProfiler' });
  }
  return { ...(hook ? { hook } : {}), rules, ...(profiler ? { profiler } : {}), profilerRules };
}

/** What a job records, from its settings. */
export interface RecordingSettings {
  /** Each step's loss and timing: whenever the hook or the profiler is on. */
  steps: boolean;
  /** Tensors are saved every this many steps; undefined when the hook is off (no DebugHookConfig and no debugger rule). */
  saveInterval?: number;
  /** And the first this-many steps, for PoorWeightInitialization's look at the start... */
  saveFirstSteps: number;
  /** ...every this-many of them: as often as its patience needs, and no more, since saving a step is what costs. */
  saveFirstEvery: number;
  /** The system is sampled this often; undefined when the profiler is disabled. */
  profilingIntervalMs?: number;
}

export function recordingSettings(spec: DebuggerSpec | undefined): RecordingSettings {
  const rules = spec?.rules ?? [];
  const hookOn = spec?.hook !== undefined || rules.length > 0;
  // Each collection may ask for its own interval; Kennel saves every tensor at once, at the smallest of them.
  const intervals = [spec?.hook?.hookParameters, ...(spec?.hook?.collections ?? []).map((collection) => collection.parameters)]
    .map((parameters) => parameters?.save_interval)
    .filter((text): text is string => text !== undefined)
    .map((text) => saveIntervalOf(text, 'DebugHookConfig'));
  const initialisation = rules.filter((rule) => rule.rule === 'PoorWeightInitialization').map(ruleParameters);
  const saveFirstSteps = Math.max(0, ...initialisation.map((parameters) => numberParameter(parameters, 'steps')));
  // patience steps saved among the first `steps`: every floor(steps / patience)th.
  const saveFirstEvery = Math.min(...initialisation.map((p) => Math.max(1, Math.floor(numberParameter(p, 'steps') / numberParameter(p, 'patience')))), Number.POSITIVE_INFINITY);
  const profiling = !spec?.profiler?.disabled;
  return {
    steps: hookOn || profiling,
    ...(hookOn ? { saveInterval: intervals.length > 0 ? Math.min(...intervals) : DEFAULT_SAVE_INTERVAL } : {}),
    saveFirstSteps,
    saveFirstEvery: Number.isFinite(saveFirstEvery) ? saveFirstEvery : 1,
    ...(profiling ? { profilingIntervalMs: spec?.profiler?.intervalMs ?? DEFAULT_PROFILING_INTERVAL_MS } : {}),
  };
}

/** The rule's parameters as its evaluation reads them (checked when the job was created). */
export function ruleParameters(configuration: RuleConfiguration): RuleParameters {
  return readRuleParameters(builtInRule(configuration.rule, configuration.kind), configuration.parameters);
}

function ruleConfiguration(input: RuleConfigurationInput, kind: BuiltInRule['kind'], jobName: string): RuleConfiguration {
  const field = kind === 'debug' ? 'DebugRuleConfigurations' : 'ProfilerRuleConfigurations';
  const { repository } = splitImage(input.evaluatorImage);
  if (repository === CUSTOM_RULE_REPOSITORY) {
    throw new DomainError('ValidationError', `${input.name}: custom rules (${CUSTOM_RULE_REPOSITORY}) are not supported; Kennel evaluates its built-in rules, named by rule_to_invoke on the sagemaker-debugger-rules image`, {
      field: `${field}.RuleEvaluatorImage`,
    });
  }
  if (!BUILT_IN_RULE_REPOSITORIES.includes(repository)) {
    throw new DomainError('ValidationError', `${input.name}: RuleEvaluatorImage ${JSON.stringify(input.evaluatorImage)} is not a rule image Kennel knows; use the built-in rules' image, <registry>/sagemaker-debugger-rules:latest (or kennel/debugger-rules)`, {
      field: `${field}.RuleEvaluatorImage`,
    });
  }
  const ruleName = input.parameters.rule_to_invoke;
  if (ruleName === undefined) {
    throw new DomainError('ValidationError', `${input.name}: RuleParameters must name the built-in rule in rule_to_invoke`, { field: `${field}.RuleParameters` });
  }
  const configuration: RuleConfiguration = { ...input, kind, rule: builtInRule(ruleName, kind).name };
  ruleParameters(configuration);
  const action = input.parameters.action_json;
  const prefix = action === undefined ? undefined : stopTrainingPrefix(action, jobName, input.name);
  return prefix === undefined ? configuration : { ...configuration, stopTrainingPrefix: prefix };
}

/**
 * `action_json`: the actions `{"name": "stoptraining" | "email" | "sms", ...}`, a list of them
 * or one. The SageMaker SDK's ActionList writes them with escaped quotes
 * (`[{\"name\": \"stoptraining\", ...}]`), which its rules container reads; plain JSON is read
 * too. StopTraining's `training_job_prefix` defaults to the job's own name. Kennel sends no
 * e-mail or SMS: those are accepted and stand for nothing, the finding being in
 * DescribeTrainingJob and the report.
 */
function stopTrainingPrefix(text: string, jobName: string, configurationName: string): string | undefined {
  const refuse = (why: string) =>
    new DomainError('ValidationError', `${configurationName}: action_json ${why}; it is a JSON list such as [{"name": "stoptraining", "training_job_prefix": "${jobName}"}]`, {
      field: 'RuleParameters.action_json',
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    try {
      parsed = JSON.parse(text.replaceAll('\\"', '"'));
    } catch {
      throw refuse('is not JSON');
    }
  }
  const actions = Array.isArray(parsed) ? parsed : [parsed];
  let prefix: string | undefined;
  for (const action of actions) {
    const name = typeof action === 'object' && action !== null ? (action as { name?: unknown }).name : undefined;
    if (typeof name !== 'string' || !['stoptraining', 'email', 'sms'].includes(name.toLowerCase())) throw refuse(`holds ${JSON.stringify(action)}, which is not a stoptraining, email or sms action`);
    if (name.toLowerCase() !== 'stoptraining') continue;
    const given = (action as { training_job_prefix?: unknown }).training_job_prefix;
    if (given !== undefined && (typeof given !== 'string' || given === '')) throw refuse('has a training_job_prefix that is not a name');
    prefix = given ?? jobName;
  }
  return prefix;
}

function saveIntervalOf(text: string, field: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new DomainError('ValidationError', `${field} save_interval must be a whole number of steps, 1 or more, not "${text}"`, { field });
  }
  return Number(text);
}
