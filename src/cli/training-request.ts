import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_BUCKET } from '../domain/data/object-uri.ts';
import { BUILT_IN_RULES } from '../domain/debugger/built-in-rules.ts';
import { DEBUGGER_RULES_IMAGE } from '../domain/debugger/configuration.ts';
import { DomainError } from '../core/errors.ts';
import type { WireDebuggerMembers } from '../api/sagemaker/debugger-wire.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';

/** The members of a CreateTrainingJob request that a tuning job's TrainingJobDefinition takes too. */
export interface TrainingJobRequest {
  HyperParameters?: Record<string, string>;
  AlgorithmSpecification: object;
  RoleArn: string;
  InputDataConfig: object[];
  OutputDataConfig: object;
  ResourceConfig: object;
  StoppingCondition: object;
}

export interface TrainingRequest {
  name: string;
  /** The images: `file://` or `s3://`, holding train/, valid/ and test/. */
  dataUri: string;
  /** An ONNX backbone; the sample backbone when absent. */
  backboneUri?: string;
  hyperParameters: Record<string, string>;
  instanceType?: string;
  maxRuntimeSeconds?: number;
  outputPath?: string;
  roleArn?: string;
  debugger?: DebuggerRequest;
}

/** The CreateTrainingJob request for Kennel's image classifier, as `training-jobs create` and `apply` send it. */
export function createTrainingJobRequest(request: TrainingRequest): TrainingJobRequest & { TrainingJobName: string } & Record<string, unknown> {
  const channel = (name: string, uri: string) => ({ ChannelName: name, DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri } } });
  return {
    TrainingJobName: request.name,
    AlgorithmSpecification: { TrainingImage: IMAGE_CLASSIFIER_IMAGE, TrainingInputMode: 'File' },
    RoleArn: request.roleArn ?? KENNEL_EXECUTION_ROLE_ARN,
    HyperParameters: request.hyperParameters,
    InputDataConfig: [channel('training', request.dataUri), ...(request.backboneUri ? [channel('backbone', request.backboneUri)] : [])],
    OutputDataConfig: { S3OutputPath: request.outputPath ?? `s3://${DEFAULT_BUCKET}/` },
    ResourceConfig: { InstanceType: request.instanceType ?? 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 30 },
    StoppingCondition: request.maxRuntimeSeconds === undefined ? {} : { MaxRuntimeInSeconds: request.maxRuntimeSeconds },
    ...(request.debugger ? debuggerRequestMembers(request.debugger, request.outputPath) : {}),
  };
}

/** A URI as is; a local path as a file:// URI. */
export function toUri(pathOrUri: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(pathOrUri) ? pathOrUri : pathToFileURL(resolve(pathOrUri)).href;
}

/** A built-in rule as `training-jobs create --rule` and a spec's `rules` name it. */
export interface RuleRequest {
  rule: string;
  parameters?: Record<string, string | number | boolean>;
  /** Stop the job when the rule finds an issue (action_json's StopTraining). */
  stopTraining?: boolean;
}

export interface DebuggerRequest {
  rules?: RuleRequest[];
  /** DebugHookConfig's save_interval: tensors are saved every this many steps. */
  saveInterval?: number;
  /** ProfilerConfig.ProfilingIntervalInMilliseconds. */
  profilingIntervalMs?: number;
}

/**
 * CreateTrainingJob's debugger members for the rules asked for, as the SageMaker Python SDK
 * builds them: each rule on the rules image with rule_to_invoke, debugger and profiler rules in
 * their own lists. A rule name Kennel does not have is left for the server to refuse with the list.
 */
export function debuggerRequestMembers(request: DebuggerRequest, outputPath = `s3://${DEFAULT_BUCKET}/`): WireDebuggerMembers {
  const seen = new Map<string, number>();
  const configurations = (request.rules ?? []).map((r) => {
    // The same rule twice, with other parameters, needs a name of its own: LossNotDecreasing, LossNotDecreasing-2.
    const count = (seen.get(r.rule) ?? 0) + 1;
    seen.set(r.rule, count);
    const kind = BUILT_IN_RULES.find((rule) => rule.name === r.rule)?.kind ?? 'debug';
    const parameters: Record<string, string> = { rule_to_invoke: r.rule };
    for (const [key, value] of Object.entries(r.parameters ?? {})) parameters[key] = typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value);
    if (r.stopTraining) parameters.action_json = JSON.stringify([{ name: 'stoptraining' }]);
    return { kind, configuration: { RuleConfigurationName: count === 1 ? r.rule : `${r.rule}-${count}`, RuleEvaluatorImage: DEBUGGER_RULES_IMAGE, RuleParameters: parameters } };
  });
  const debug = configurations.filter((c) => c.kind === 'debug').map((c) => c.configuration);
  const profiler = configurations.filter((c) => c.kind === 'profiler').map((c) => c.configuration);
  return {
    ...(debug.length > 0 || request.saveInterval !== undefined
      ? { DebugHookConfig: { S3OutputPath: outputPath, ...(request.saveInterval !== undefined ? { HookParameters: { save_interval: String(request.saveInterval) } } : {}) } }
      : {}),
    ...(debug.length > 0 ? { DebugRuleConfigurations: debug } : {}),
    ...(request.profilingIntervalMs !== undefined ? { ProfilerConfig: { S3OutputPath: outputPath, ProfilingIntervalInMilliseconds: request.profilingIntervalMs } } : {}),
    ...(profiler.length > 0 ? { ProfilerRuleConfigurations: profiler } : {}),
  };
}

/**
 * `--rule` flags: `ExplodingTensor`, or `LossNotDecreasing:num_steps=20:diff_percent=5`;
 * `--stop-on` names the rules whose finding stops the job.
 */
export function parseRuleFlags(rules: readonly string[], stopOn: readonly string[] = []): RuleRequest[] {
  const parsed = rules.map((flag) => {
    const [rule, ...pairs] = flag.split(':');
    if (!rule) throw new DomainError('ValidationError', `--rule expects a rule name, then :name=value parameters (got ${JSON.stringify(flag)})`, { field: '--rule' });
    const parameters: Record<string, string> = {};
    for (const pair of pairs) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new DomainError('ValidationError', `--rule ${rule}: a parameter is name=value (got ${JSON.stringify(pair)})`, { field: '--rule' });
      parameters[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return { rule, parameters, stopTraining: stopOn.includes(rule) };
  });
  for (const name of stopOn) {
    if (!parsed.some((r) => r.rule === name)) parsed.push({ rule: name, parameters: {}, stopTraining: true });
  }
  return parsed;
}
