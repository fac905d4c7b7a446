import type { Platform } from '../../control/platform.ts';
import { childUri } from '../../control/object-locations.ts';
import { sageMakerArn } from '../../domain/iam/arn.ts';
import type { TrainingJob } from '../../domain/training/training-job.ts';
import { runtimeMs } from '../../domain/training/training-job-decider.ts';
import { listPage, type ListRequest } from '../aws/list-page.ts';
import type { JsonOperation } from '../aws/json-protocol.ts';
import { debuggerFromWire, debuggerToWire, type WireDebuggerMembers } from './debugger-wire.ts';
import { channelsFromWire, channelsToWire, defined, epochSeconds, tagsFromWire, type WireChannel, type WireTag } from './wire.ts';

interface CreateTrainingJobRequest extends WireDebuggerMembers {
  TrainingJobName: string;
  HyperParameters?: Record<string, string>;
  AlgorithmSpecification: {
    TrainingImage?: string;
    AlgorithmName?: string;
    TrainingInputMode: string;
    MetricDefinitions?: { Name: string; Regex: string }[];
  };
  RoleArn: string;
  InputDataConfig?: WireChannel[];
  OutputDataConfig: { S3OutputPath: string };
  ResourceConfig: { InstanceType?: string; InstanceCount?: number; VolumeSizeInGB: number; InstanceGroups?: unknown[] };
  StoppingCondition: { MaxRuntimeInSeconds?: number };
  CheckpointConfig?: { S3Uri: string; LocalPath?: string };
  Environment?: Record<string, string>;
  Tags?: WireTag[];
}

/** CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs and StopTrainingJob. */
export function trainingJobOperations(platform: Platform): Record<string, JsonOperation> {
  return {
    CreateTrainingJob: {
      // SageMaker declares these two for CreateTrainingJob: a taken name, and input data that is not there.
      errors: { AlreadyExists: 'ResourceInUse', NotFound: 'ResourceNotFound' },
      handler: async (input: CreateTrainingJobRequest) => {
        const job = await platform.trainingJobs.create({
          name: input.TrainingJobName,
          trainingImage: input.AlgorithmSpecification.TrainingImage,
          algorithmName: input.AlgorithmSpecification.AlgorithmName,
          trainingInputMode: input.AlgorithmSpecification.TrainingInputMode,
          metricDefinitions: (input.AlgorithmSpecification.MetricDefinitions ?? []).map((metric) => ({ name: metric.Name, regex: metric.Regex })),
          roleArn: input.RoleArn,
          hyperParameters: input.HyperParameters,
          channels: channelsFromWire(input.InputDataConfig, 'InputDataConfig'),
          outputPath: input.OutputDataConfig.S3OutputPath,
          instanceType: input.ResourceConfig.InstanceType,
          instanceCount: input.ResourceConfig.InstanceCount,
          volumeSizeInGB: input.ResourceConfig.VolumeSizeInGB,
          hasInstanceGroups: (input.ResourceConfig.InstanceGroups?.length ?? 0) > 0,
          maxRuntimeSeconds: input.StoppingCondition.MaxRuntimeInSeconds,
          checkpointUri: input.CheckpointConfig?.S3Uri,
          environment: input.Environment,
          debugger: debuggerFromWire(input),
          tags: tagsFromWire(input.Tags),
        });
        return { TrainingJobArn: sageMakerArn('training-job', job.name) };
      },
    },
    DescribeTrainingJob: {
      handler: (input: { TrainingJobName: string }) => describeTrainingJob(platform.trainingJobs.describe(input.TrainingJobName)),
    },
    ListTrainingJobs: {
      handler: (input: ListRequest) => {
        // SageMaker documents Ascending as ListTrainingJobs' default, unlike the other lists.
        const view = (job: TrainingJob) => ({ name: job.name, createdAtMs: job.createdAtMs, lastModifiedAtMs: job.lastModifiedAtMs, status: job.status });
        const { items, nextToken } = listPage(platform.trainingJobs.list(), input, view, { sortOrder: 'Ascending' });
        return defined({
          TrainingJobSummaries: items.map((job) =>
            defined({
              TrainingJobName: job.name,
              TrainingJobArn: sageMakerArn('training-job', job.name),
              CreationTime: epochSeconds(job.createdAtMs),
              TrainingEndTime: epochSeconds(job.endedAtMs),
              LastModifiedTime: epochSeconds(job.lastModifiedAtMs),
              TrainingJobStatus: job.status,
            }),
          ),
          NextToken: nextToken,
        });
      },
    },
    StopTrainingJob: {
      handler: (input: { TrainingJobName: string }) => {
        platform.trainingJobs.stop(input.TrainingJobName);
        return {};
      },
    },
  };
}

function describeTrainingJob(job: TrainingJob): Record<string, unknown> {
  const { spec } = job;
  const seconds = job.endedAtMs !== undefined && job.startedAtMs !== undefined ? Math.max(1, Math.ceil(runtimeMs(job, job.endedAtMs) / 1000)) : undefined;
  return defined({
    TrainingJobName: job.name,
    TrainingJobArn: sageMakerArn('training-job', job.name),
    TuningJobArn: spec.tuningJobName ? sageMakerArn('hyper-parameter-tuning-job', spec.tuningJobName) : undefined,
    ModelArtifacts: { S3ModelArtifacts: job.modelArtifactsUri ?? childUri(spec.outputPath, job.name, 'output', 'model.tar.gz') },
    TrainingJobStatus: job.status,
    SecondaryStatus: job.secondaryStatus,
    FailureReason: job.failureReason,
    HyperParameters: spec.hyperParameters,
    AlgorithmSpecification: defined({
      TrainingImage: spec.trainingImage,
      TrainingInputMode: spec.trainingInputMode,
      MetricDefinitions: spec.metricDefinitions.length > 0 ? spec.metricDefinitions.map((m) => ({ Name: m.name, Regex: m.regex })) : undefined,
      EnableSageMakerMetricsTimeSeries: false,
    }),
    RoleArn: spec.roleArn,
    InputDataConfig: channelsToWire(spec.channels),
    OutputDataConfig: { S3OutputPath: spec.outputPath },
    ResourceConfig: { InstanceType: spec.instanceType, InstanceCount: spec.instanceCount, VolumeSizeInGB: spec.volumeSizeInGB },
    StoppingCondition: { MaxRuntimeInSeconds: spec.maxRuntimeSeconds },
    CheckpointConfig: spec.checkpointUri ? { S3Uri: spec.checkpointUri } : undefined,
    Environment: spec.algorithm === 'script' && Object.keys(spec.environment).length > 0 ? spec.environment : undefined,
    CreationTime: epochSeconds(job.createdAtMs),
    TrainingStartTime: epochSeconds(job.startedAtMs),
    TrainingEndTime: epochSeconds(job.endedAtMs),
    LastModifiedTime: epochSeconds(job.lastModifiedAtMs),
    SecondaryStatusTransitions: job.secondaryStatusTransitions.map((transition) =>
      defined({
        Status: transition.status,
        StartTime: epochSeconds(transition.startMs),
        EndTime: epochSeconds(transition.endMs),
        StatusMessage: transition.message,
      }),
    ),
    FinalMetricDataList: finalMetricData(job),
    ...debuggerToWire(job),
    EnableNetworkIsolation: false,
    EnableInterContainerTrafficEncryption: false,
    EnableManagedSpotTraining: false,
    TrainingTimeInSeconds: seconds,
    BillableTimeInSeconds: seconds,
  });
}

/**
 * The job's final metrics: the image classifier's own, named as SageMaker's
 * built-in algorithms name theirs (the last epoch's train and validation
 * figures, and the test figures once the job has evaluated its model), and the
 * last value each MetricDefinition scraped from the log.
 */
function finalMetricData(job: TrainingJob): { MetricName: string; Value: number; Timestamp: number }[] | undefined {
  const at = epochSeconds(job.endedAtMs ?? job.lastModifiedAtMs);
  const metrics: [string, number, number][] = [];
  const last = job.epochs.at(-1);
  if (last) {
    metrics.push(
      ['train:loss', last.trainLoss, at],
      ['train:accuracy', last.trainAccuracy, at],
      ['validation:loss', last.validationLoss, at],
      ['validation:accuracy', last.validationAccuracy, at],
    );
  }
  if (job.finalMetrics) metrics.push(['test:loss', job.finalMetrics.testLoss, at], ['test:accuracy', job.finalMetrics.testAccuracy, at]);
  for (const [name, points] of Object.entries(job.scrapedMetrics ?? {})) {
    const point = points.at(-1);
    if (point && !metrics.some(([known]) => known === name)) metrics.push([name, point.value, epochSeconds(point.atMs)]);
  }
  // JSON has no NaN: a diverged run's metric is left out rather than sent as null.
  const finite = metrics.filter(([, value]) => Number.isFinite(value));
  return finite.length === 0 ? undefined : finite.map(([name, value, timestamp]) => ({ MetricName: name, Value: value, Timestamp: timestamp }));
}
