import type { DebuggerInput, DebuggerSpec, RuleConfiguration, RuleConfigurationInput } from '../../domain/debugger/configuration.ts';
import type { RuleEvaluation } from '../../domain/debugger/evaluation.ts';
import { ACCOUNT_ID, DEFAULT_REGION } from '../../domain/iam/arn.ts';
import type { TrainingJob } from '../../domain/training/training-job.ts';
import { defined, epochSeconds } from './wire.ts';

/** CreateTrainingJob's and DescribeTrainingJob's debugger and profiler members. */

export interface WireRuleConfiguration {
  RuleConfigurationName: string;
  RuleEvaluatorImage: string;
  RuleParameters?: Record<string, string>;
  InstanceType?: string;
  VolumeSizeInGB?: number;
  LocalPath?: string;
  S3OutputPath?: string;
}

export interface WireDebuggerMembers {
  DebugHookConfig?: {
    S3OutputPath: string;
    LocalPath?: string;
    HookParameters?: Record<string, string>;
    CollectionConfigurations?: { CollectionName?: string; CollectionParameters?: Record<string, string> }[];
  };
  DebugRuleConfigurations?: WireRuleConfiguration[];
  ProfilerConfig?: { S3OutputPath?: string; ProfilingIntervalInMilliseconds?: number; ProfilingParameters?: Record<string, string>; DisableProfiler?: boolean };
  ProfilerRuleConfigurations?: WireRuleConfiguration[];
}

export function debuggerFromWire(request: WireDebuggerMembers): DebuggerInput | undefined {
  const { DebugHookConfig: hook, DebugRuleConfigurations: rules, ProfilerConfig: profiler, ProfilerRuleConfigurations: profilerRules } = request;
  if (!hook && !rules && !profiler && !profilerRules) return undefined;
  return defined({
    hook: hook
      ? defined({
          s3OutputPath: hook.S3OutputPath,
          localPath: hook.LocalPath,
          hookParameters: hook.HookParameters ?? {},
          collections: (hook.CollectionConfigurations ?? []).map((collection) => ({ name: collection.CollectionName ?? '', parameters: collection.CollectionParameters ?? {} })),
        })
      : undefined,
    rules: rules?.map(ruleFromWire),
    profiler: profiler
      ? defined({
          disabled: profiler.DisableProfiler ?? false,
          intervalMs: profiler.ProfilingIntervalInMilliseconds,
          s3OutputPath: profiler.S3OutputPath,
          parameters: profiler.ProfilingParameters,
        })
      : undefined,
    profilerRules: profilerRules?.map(ruleFromWire),
  });
}

function ruleFromWire(rule: WireRuleConfiguration): RuleConfigurationInput {
  return defined({
    name: rule.RuleConfigurationName,
    evaluatorImage: rule.RuleEvaluatorImage,
    parameters: rule.RuleParameters ?? {},
    instanceType: rule.InstanceType,
    volumeSizeInGB: rule.VolumeSizeInGB,
    localPath: rule.LocalPath,
    s3OutputPath: rule.S3OutputPath,
  });
}

/** DescribeTrainingJob's members: the settings as sent, each rule's evaluation, and ProfilingStatus (Kennel samples every job unless told not to). */
export function debuggerToWire(job: TrainingJob): Record<string, unknown> {
  const spec: DebuggerSpec | undefined = job.spec.debugger;
  const evaluations = job.ruleEvaluations ?? [];
  const statuses = (kind: RuleConfiguration['kind']) => {
    const of = evaluations.filter((evaluation) => evaluation.kind === kind);
    return of.length > 0 ? of.map((evaluation) => evaluationToWire(job.name, evaluation)) : undefined;
  };
  return defined({
    DebugHookConfig: spec?.hook
      ? defined({
          S3OutputPath: spec.hook.s3OutputPath,
          LocalPath: spec.hook.localPath,
          HookParameters: Object.keys(spec.hook.hookParameters).length > 0 ? spec.hook.hookParameters : undefined,
          CollectionConfigurations:
            spec.hook.collections.length > 0 ? spec.hook.collections.map((c) => defined({ CollectionName: c.name || undefined, CollectionParameters: c.parameters })) : undefined,
        })
      : undefined,
    DebugRuleConfigurations: spec && spec.rules.length > 0 ? spec.rules.map(ruleToWire) : undefined,
    DebugRuleEvaluationStatuses: statuses('debug'),
    ProfilerConfig: spec?.profiler
      ? defined({
          S3OutputPath: spec.profiler.s3OutputPath,
          ProfilingIntervalInMilliseconds: spec.profiler.intervalMs,
          ProfilingParameters: spec.profiler.parameters,
          DisableProfiler: spec.profiler.disabled || undefined,
        })
      : undefined,
    ProfilerRuleConfigurations: spec && spec.profilerRules.length > 0 ? spec.profilerRules.map(ruleToWire) : undefined,
    ProfilerRuleEvaluationStatuses: statuses('profiler'),
    ProfilingStatus: spec?.profiler?.disabled ? 'Disabled' : 'Enabled',
  });
}

function ruleToWire(rule: RuleConfiguration): Record<string, unknown> {
  return defined({
    RuleConfigurationName: rule.name,
    RuleEvaluatorImage: rule.evaluatorImage,
    RuleParameters: rule.parameters,
    InstanceType: rule.instanceType,
    VolumeSizeInGB: rule.volumeSizeInGB,
    LocalPath: rule.localPath,
    S3OutputPath: rule.s3OutputPath,
  });
}

function evaluationToWire(jobName: string, evaluation: RuleEvaluation): Record<string, unknown> {
  return {
    RuleConfigurationName: evaluation.configurationName,
    RuleEvaluationJobArn: `arn:aws:sagemaker:${DEFAULT_REGION}:${ACCOUNT_ID}:processing-job/${ruleEvaluationJobName(jobName, evaluation.configurationName)}`,
    RuleEvaluationStatus: evaluation.status,
    // The service model allows StatusDetails 1,024 characters.
    StatusDetails: (evaluation.step !== undefined ? `At step ${evaluation.step}: ${evaluation.details}` : evaluation.details).slice(0, 1024),
    LastModifiedTime: epochSeconds(evaluation.lastModifiedAtMs),
  };
}

/**
 * SageMaker runs each rule as a processing job named after the training job and the rule;
 * Kennel evaluates rules in process, and names the evaluation the same way for the ARN.
 */
function ruleEvaluationJobName(jobName: string, configurationName: string): string {
  const part = (text: string, length: number) => text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, length).replace(/^-+|-+$/g, '');
  return `${part(jobName, 38)}-${part(configurationName, 24)}`;
}
