import { DomainError } from '../../core/errors.ts';
import type { Platform } from '../../control/platform.ts';
import type { CreateTuningJobInput } from '../../control/tuning-jobs.ts';
import { sageMakerArn } from '../../domain/iam/arn.ts';
import type { TuningStrategy } from '../../domain/tuning/ranges.ts';
import type { ParameterRange, ScalingType, SearchSpace } from '../../domain/tuning/search-space.ts';
import { objectiveStatus, objectiveStatusCounters, trainingJobStatusCounters } from '../../domain/tuning/trial-counters.ts';
import { bestTrial, type TrialView } from '../../domain/tuning/tuning-decider.ts';
import type { TuningJob } from '../../domain/tuning/tuning-job.ts';
import { listPage, type ListRequest } from '../aws/list-page.ts';
import type { JsonOperation } from '../aws/json-protocol.ts';
import { channelsFromWire, channelsToWire, defined, epochSeconds, tagsFromWire, type WireChannel, type WireTag } from './wire.ts';

interface WireNumericRange {
  Name: string;
  MinValue: string;
  MaxValue: string;
  ScalingType?: ScalingType;
}

interface WireParameterRanges {
  IntegerParameterRanges?: WireNumericRange[];
  ContinuousParameterRanges?: WireNumericRange[];
  CategoricalParameterRanges?: { Name: string; Values: string[] }[];
}

interface WireObjective {
  Type: 'Minimize' | 'Maximize';
  MetricName: string;
}

interface WireTrainingJobDefinition {
  DefinitionName?: string;
  TuningObjective?: WireObjective;
  HyperParameterRanges?: WireParameterRanges;
  StaticHyperParameters?: Record<string, string>;
  AlgorithmSpecification: { TrainingImage?: string; AlgorithmName?: string; TrainingInputMode: string; MetricDefinitions?: { Name: string; Regex: string }[] };
  RoleArn: string;
  InputDataConfig?: WireChannel[];
  OutputDataConfig: { S3OutputPath: string };
  ResourceConfig?: { InstanceType?: string; InstanceCount?: number; VolumeSizeInGB: number };
  HyperParameterTuningResourceConfig?: unknown;
  StoppingCondition: { MaxRuntimeInSeconds?: number };
  CheckpointConfig?: { S3Uri: string };
}

interface CreateTuningJobRequest {
  HyperParameterTuningJobName: string;
  HyperParameterTuningJobConfig: {
    Strategy: TuningStrategy;
    StrategyConfig?: { HyperbandStrategyConfig?: { MinResource?: number; MaxResource?: number } };
    HyperParameterTuningJobObjective?: WireObjective;
    ResourceLimits: { MaxNumberOfTrainingJobs?: number; MaxParallelTrainingJobs: number };
    ParameterRanges?: WireParameterRanges;
    TrainingJobEarlyStoppingType?: 'Off' | 'Auto';
    TuningJobCompletionCriteria?: { TargetObjectiveMetricValue: number };
    RandomSeed?: number;
  };
  TrainingJobDefinition?: WireTrainingJobDefinition;
  TrainingJobDefinitions?: WireTrainingJobDefinition[];
  WarmStartConfig?: { ParentHyperParameterTuningJobs: { HyperParameterTuningJobName?: string }[]; WarmStartType: 'IdenticalDataAndAlgorithm' | 'TransferLearning' };
  Tags?: WireTag[];
}

const CONFIG = 'HyperParameterTuningJobConfig';
const ARN = 'hyper-parameter-tuning-job';

/** CreateHyperParameterTuningJob, DescribeHyperParameterTuningJob, ListHyperParameterTuningJobs, ListTrainingJobsForHyperParameterTuningJob and StopHyperParameterTuningJob. */
export function tuningJobOperations(platform: Platform): Record<string, JsonOperation> {
  const tuning = platform.tuningJobs;
  return {
    CreateHyperParameterTuningJob: {
      errors: { AlreadyExists: 'ResourceInUse' },
      handler: async (input: CreateTuningJobRequest) => {
        const job = await tuning.create(createInput(input));
        return { HyperParameterTuningJobArn: sageMakerArn(ARN, job.name) };
      },
    },
    DescribeHyperParameterTuningJob: {
      errors: { NotFound: 'ResourceNotFound' },
      handler: (input: { HyperParameterTuningJobName: string }) => {
        const job = tuning.describe(input.HyperParameterTuningJobName);
        return describeTuningJob(platform, job, tuning.trials(job));
      },
    },
    ListHyperParameterTuningJobs: {
      handler: (input: ListRequest) => {
        const view = (job: TuningJob) => ({ name: job.name, createdAtMs: job.createdAtMs, lastModifiedAtMs: job.lastModifiedAtMs, status: job.status });
        const { items, nextToken } = listPage(tuning.list(), input, view, { sortBy: 'Name', sortOrder: 'Ascending' });
        return defined({
          HyperParameterTuningJobSummaries: items.map((job) => {
            const trials = tuning.trials(job);
            return defined({
              HyperParameterTuningJobName: job.name,
              HyperParameterTuningJobArn: sageMakerArn(ARN, job.name),
              HyperParameterTuningJobStatus: job.status,
              Strategy: job.spec.strategy,
              CreationTime: epochSeconds(job.createdAtMs),
              HyperParameterTuningEndTime: epochSeconds(job.endedAtMs),
              LastModifiedTime: epochSeconds(job.lastModifiedAtMs),
              TrainingJobStatusCounters: trainingJobStatusCounters(trials),
              ObjectiveStatusCounters: objectiveStatusCounters(trials),
              ResourceLimits: resourceLimits(job),
            });
          }),
          NextToken: nextToken,
        });
      },
    },
    ListTrainingJobsForHyperParameterTuningJob: {
      errors: { NotFound: 'ResourceNotFound' },
      handler: (input: ListRequest & { HyperParameterTuningJobName: string }) => {
        const { HyperParameterTuningJobName: name, ...request } = input;
        const job = tuning.describe(name);
        const summaries = tuning.trials(job).map((trial) => trialSummary(platform, job, trial));
        const view = (summary: TrialSummary) => ({
          name: summary.TrainingJobName,
          createdAtMs: summary.CreationTime * 1000,
          status: summary.TrainingJobStatus,
          ...(summary.FinalHyperParameterTuningJobObjectiveMetric ? { objective: summary.FinalHyperParameterTuningJobObjectiveMetric.Value } : {}),
        });
        const { items, nextToken } = listPage(summaries, request, view, { sortBy: 'Name', sortOrder: 'Ascending' });
        return defined({ TrainingJobSummaries: items, NextToken: nextToken });
      },
    },
    StopHyperParameterTuningJob: {
      errors: { NotFound: 'ResourceNotFound' },
      handler: (input: { HyperParameterTuningJobName: string }) => {
        tuning.stop(input.HyperParameterTuningJobName);
        return {};
      },
    },
  };
}

function createInput(input: CreateTuningJobRequest): CreateTuningJobInput {
  const config = input.HyperParameterTuningJobConfig;
  if (input.TrainingJobDefinitions !== undefined) {
    throw invalid('TrainingJobDefinitions', 'TrainingJobDefinitions (several algorithms in one tuning job) is not supported: give one TrainingJobDefinition');
  }
  const definition = input.TrainingJobDefinition;
  if (!definition) throw invalid('TrainingJobDefinition', 'TrainingJobDefinition is required: the training job every trial starts from');
  const seed = config.RandomSeed;
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) throw invalid(`${CONFIG}.RandomSeed`, `${CONFIG}.RandomSeed must be a non-negative integer, got ${seed}`);
  const hyperband = config.StrategyConfig?.HyperbandStrategyConfig;
  const objective = config.HyperParameterTuningJobObjective ?? definition.TuningObjective;
  const rangesField = config.ParameterRanges ? `${CONFIG}.ParameterRanges` : 'TrainingJobDefinition.HyperParameterRanges';
  const algorithm = definition.AlgorithmSpecification;
  return {
    name: input.HyperParameterTuningJobName,
    strategy: config.Strategy,
    ...(hyperband ? { hyperband: defined({ minResource: hyperband.MinResource, maxResource: hyperband.MaxResource }) } : {}),
    ...(objective ? { objective: { type: objective.Type, metricName: objective.MetricName } } : {}),
    ranges: searchSpace(config.ParameterRanges ?? definition.HyperParameterRanges ?? {}, rangesField),
    ...(config.ResourceLimits.MaxNumberOfTrainingJobs !== undefined ? { maxNumberOfTrainingJobs: config.ResourceLimits.MaxNumberOfTrainingJobs } : {}),
    maxParallelTrainingJobs: config.ResourceLimits.MaxParallelTrainingJobs,
    ...(config.TrainingJobEarlyStoppingType ? { earlyStopping: config.TrainingJobEarlyStoppingType } : {}),
    ...(seed !== undefined ? { randomSeed: seed } : {}),
    ...(config.TuningJobCompletionCriteria ? { targetObjectiveValue: config.TuningJobCompletionCriteria.TargetObjectiveMetricValue } : {}),
    template: defined({
      trainingImage: algorithm.TrainingImage,
      algorithmName: algorithm.AlgorithmName,
      trainingInputMode: algorithm.TrainingInputMode,
      roleArn: definition.RoleArn,
      staticHyperParameters: definition.StaticHyperParameters,
      channels: channelsFromWire(definition.InputDataConfig, 'TrainingJobDefinition.InputDataConfig'),
      outputPath: definition.OutputDataConfig.S3OutputPath,
      instanceType: definition.ResourceConfig?.InstanceType,
      instanceCount: definition.ResourceConfig?.InstanceCount,
      volumeSizeInGB: definition.ResourceConfig?.VolumeSizeInGB,
      maxRuntimeSeconds: definition.StoppingCondition.MaxRuntimeInSeconds,
      metricDefinitions: algorithm.MetricDefinitions?.map((metric) => ({ name: metric.Name, regex: metric.Regex })),
      checkpointUri: definition.CheckpointConfig?.S3Uri,
    }),
    ...(input.WarmStartConfig
      ? {
          warmStart: {
            parents: input.WarmStartConfig.ParentHyperParameterTuningJobs.map((parent, index) => {
              if (parent.HyperParameterTuningJobName === undefined) {
                throw invalid(`WarmStartConfig.ParentHyperParameterTuningJobs[${index}]`, 'Each parent needs a HyperParameterTuningJobName');
              }
              return parent.HyperParameterTuningJobName;
            }),
            type: input.WarmStartConfig.WarmStartType,
          },
        }
      : {}),
    tags: tagsFromWire(input.Tags),
  };
}

/** ParameterRanges as a search space. The ends travel as strings; a range's own rules (min ≤ max, log scale above 0) are the domain's to check. */
function searchSpace(ranges: WireParameterRanges, field: string): SearchSpace {
  const numeric = (kind: 'Integer' | 'Continuous', list: WireNumericRange[] | undefined): ParameterRange[] =>
    (list ?? []).map((range, index) => {
      const at = `${field}.${kind}ParameterRanges[${index}]`;
      const end = (member: 'MinValue' | 'MaxValue') => {
        const text = range[member].trim();
        const value = Number(text);
        if (text === '' || !Number.isFinite(value) || (kind === 'Integer' && !Number.isInteger(value))) {
          throw invalid(`${at}.${member}`, `${at}.${member} must be ${kind === 'Integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(range[member])} (range ${range.Name})`);
        }
        return value;
      };
      return { kind, name: range.Name, min: end('MinValue'), max: end('MaxValue'), scaling: range.ScalingType ?? 'Auto' };
    });
  return [
    ...numeric('Integer', ranges.IntegerParameterRanges),
    ...numeric('Continuous', ranges.ContinuousParameterRanges),
    ...(ranges.CategoricalParameterRanges ?? []).map((range): ParameterRange => ({ kind: 'Categorical', name: range.Name, values: range.Values })),
  ];
}

function rangesToWire(space: SearchSpace): WireParameterRanges {
  const numeric = (kind: 'Integer' | 'Continuous') =>
    space.flatMap((range) => (range.kind === kind ? [{ Name: range.name, MinValue: String(range.min), MaxValue: String(range.max), ScalingType: range.scaling }] : []));
  return {
    IntegerParameterRanges: numeric('Integer'),
    ContinuousParameterRanges: numeric('Continuous'),
    CategoricalParameterRanges: space.flatMap((range) => (range.kind === 'Categorical' ? [{ Name: range.name, Values: [...range.values] }] : [])),
  };
}

function resourceLimits(job: TuningJob) {
  return { MaxNumberOfTrainingJobs: job.spec.maxNumberOfTrainingJobs, MaxParallelTrainingJobs: job.spec.maxParallelTrainingJobs };
}

function describeTuningJob(platform: Platform, job: TuningJob, trials: TrialView[]): Record<string, unknown> {
  const { spec } = job;
  const { template } = spec;
  const best = bestTrial(trials, spec.objective.type);
  return defined({
    HyperParameterTuningJobName: job.name,
    HyperParameterTuningJobArn: sageMakerArn(ARN, job.name),
    HyperParameterTuningJobConfig: defined({
      Strategy: spec.strategy,
      StrategyConfig: spec.hyperband
        ? { HyperbandStrategyConfig: defined({ MinResource: spec.hyperband.minResource, MaxResource: spec.hyperband.maxResource }) }
        : undefined,
      HyperParameterTuningJobObjective: { Type: spec.objective.type, MetricName: spec.objective.metricName },
      ResourceLimits: resourceLimits(job),
      ParameterRanges: rangesToWire(spec.ranges),
      TrainingJobEarlyStoppingType: spec.earlyStopping,
      TuningJobCompletionCriteria: spec.targetObjectiveValue !== undefined ? { TargetObjectiveMetricValue: spec.targetObjectiveValue } : undefined,
      RandomSeed: spec.randomSeed,
    }),
    TrainingJobDefinition: defined({
      StaticHyperParameters: template.staticHyperParameters,
      AlgorithmSpecification: defined({
        TrainingImage: template.trainingImage,
        TrainingInputMode: template.trainingInputMode,
        MetricDefinitions: template.metricDefinitions.length > 0 ? template.metricDefinitions.map((m) => ({ Name: m.name, Regex: m.regex })) : undefined,
      }),
      RoleArn: template.roleArn,
      InputDataConfig: channelsToWire(template.channels),
      OutputDataConfig: { S3OutputPath: template.outputPath },
      ResourceConfig: { InstanceType: template.instanceType, InstanceCount: template.instanceCount, VolumeSizeInGB: template.volumeSizeInGB },
      StoppingCondition: template.maxRuntimeSeconds !== undefined ? { MaxRuntimeInSeconds: template.maxRuntimeSeconds } : {},
      CheckpointConfig: template.checkpointUri !== undefined ? { S3Uri: template.checkpointUri } : undefined,
    }),
    WarmStartConfig: spec.warmStart
      ? {
          ParentHyperParameterTuningJobs: spec.warmStart.parents.map((parent) => ({ HyperParameterTuningJobName: parent })),
          WarmStartType: spec.warmStart.type,
        }
      : undefined,
    HyperParameterTuningJobStatus: job.status,
    CreationTime: epochSeconds(job.createdAtMs),
    HyperParameterTuningEndTime: epochSeconds(job.endedAtMs),
    LastModifiedTime: epochSeconds(job.lastModifiedAtMs),
    TrainingJobStatusCounters: trainingJobStatusCounters(trials),
    ObjectiveStatusCounters: objectiveStatusCounters(trials),
    BestTrainingJob: best ? trialSummary(platform, job, best) : undefined,
    FailureReason: job.failureReason,
  });
}

interface TrialSummary {
  TrainingJobName: string;
  TrainingJobArn: string;
  TuningJobName: string;
  CreationTime: number;
  TrainingStartTime?: number;
  TrainingEndTime?: number;
  TrainingJobStatus: string;
  TunedHyperParameters: Record<string, string>;
  FailureReason?: string;
  FinalHyperParameterTuningJobObjectiveMetric?: { Type: string; MetricName: string; Value: number };
  ObjectiveStatus: string;
}

/** HyperParameterTrainingJobSummary: one trial, with the tuned values it ran with and its objective. */
function trialSummary(platform: Platform, job: TuningJob, trial: TrialView): TrialSummary {
  const trainingJob = platform.deps.store.trainingJobs.get(trial.entry.trainingJobName);
  return defined({
    TrainingJobName: trial.entry.trainingJobName,
    TrainingJobArn: sageMakerArn('training-job', trial.entry.trainingJobName),
    TuningJobName: job.name,
    CreationTime: epochSeconds(trainingJob?.createdAtMs ?? trial.entry.createdAtMs),
    TrainingStartTime: epochSeconds(trainingJob?.startedAtMs),
    TrainingEndTime: epochSeconds(trainingJob?.endedAtMs),
    // A trial recorded just before a restart, whose training job is not created yet, is as good as starting.
    TrainingJobStatus: trial.status === 'Pending' ? 'InProgress' : trial.status,
    TunedHyperParameters: trial.entry.hyperParameters,
    FailureReason: trainingJob?.failureReason,
    FinalHyperParameterTuningJobObjectiveMetric:
      trial.final !== undefined && Number.isFinite(trial.final)
        ? { Type: job.spec.objective.type, MetricName: job.spec.objective.metricName, Value: trial.final }
        : undefined,
    ObjectiveStatus: objectiveStatus(trial),
  });
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('ValidationError', message, { field });
}
