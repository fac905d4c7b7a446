import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { DomainError } from '../core/errors.ts';
import { DEFAULT_BUCKET } from '../domain/data/object-uri.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';
import { AwsServiceError, type KennelClient } from './client.ts';
import { applyFunctions } from './apply-functions.ts';
import { connect, globalOptions, kennelHome } from './context.ts';
import { waitForEndpoint } from './endpoints.ts';
import type { TrainingJobDescription } from './sagemaker-shapes.ts';
import { loadWorkloadSpec, type WorkloadSpec } from './spec.ts';
import { debuggerRequestMembers, createTrainingJobRequest, type TrainingJobRequest } from './training-request.ts';
import { waitForJob } from './training-jobs.ts';
import { waitForTuningJob } from './tuning-jobs.ts';
import { bestTrial } from './tuning-report.ts';
import { createTuningJobRequest, type RangeRequest } from './tuning-request.ts';

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('Create everything a workload spec describes (dataset → tuning job → training job → model → endpoint), skipping what exists')
    .requiredOption('-f, --file <spec.yaml>', 'workload spec file')
    .action(async (options: { file: string }, command: Command) => {
      const spec = await loadWorkloadSpec(options.file, kennelHome(globalOptions(command)));
      await apply(await connect(command), spec, options.file);
    });
}

type TrainingJobSpec = WorkloadSpec['trainingJob'];

function asStrings(values: Record<string, string | number> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(values ?? {}).map(([key, value]) => [key, String(value)]));
}

/**
 * The spec's training job as the CreateTrainingJob request it stands for: for the
 * image classifier, backbone settings become hyperparameters; for script mode,
 * the entry point and its folder become sagemaker_program and
 * sagemaker_submit_directory, as the SageMaker Python SDK sends them.
 */
function trainingJobRequest(job: TrainingJobSpec, datasetPath: string, hyperParameters: Record<string, string>): TrainingJobRequest & { TrainingJobName: string } {
  const dataUri = pathToFileURL(datasetPath).href;
  if ('script' in job) {
    return {
      TrainingJobName: job.name,
      AlgorithmSpecification: {
        TrainingImage: job.script.image,
        TrainingInputMode: 'File',
        ...(job.metricDefinitions ? { MetricDefinitions: job.metricDefinitions.map((metric) => ({ Name: metric.name, Regex: metric.regex })) } : {}),
      },
      RoleArn: KENNEL_EXECUTION_ROLE_ARN,
      HyperParameters: { ...hyperParameters, sagemaker_program: job.script.entryPoint, sagemaker_submit_directory: pathToFileURL(job.script.sourceDir).href },
      InputDataConfig: [{ ChannelName: 'training', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: dataUri } } }],
      OutputDataConfig: { S3OutputPath: `s3://${DEFAULT_BUCKET}/` },
      ResourceConfig: { InstanceType: job.instanceType ?? 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 30 },
      StoppingCondition: job.maxRuntimeInSeconds === undefined ? {} : { MaxRuntimeInSeconds: job.maxRuntimeInSeconds },
    };
  }
  const settings: Record<string, string | number | undefined> = {};
  if ('path' in job.backbone) {
    const { inputName, outputName, featureSize, preprocessing } = job.backbone;
    Object.assign(settings, {
      backbone_input_name: inputName,
      backbone_output_name: outputName,
      backbone_feature_size: featureSize,
      resize_size: preprocessing?.resizeSize,
      crop_size: preprocessing?.cropSize,
      normalize_mean: preprocessing?.mean?.join(','),
      normalize_std: preprocessing?.std?.join(','),
      input_layout: preprocessing?.layout,
    });
  }
  for (const [key, value] of Object.entries(settings)) if (value !== undefined) hyperParameters = { ...hyperParameters, [key]: String(value) };
  return createTrainingJobRequest({
    name: job.name,
    dataUri,
    ...('path' in job.backbone ? { backboneUri: pathToFileURL(job.backbone.path).href } : {}),
    hyperParameters,
    instanceType: job.instanceType,
    maxRuntimeSeconds: job.maxRuntimeInSeconds,
  });
}

/** The spec's tuning job: trials of the spec's training job, its tuned hyperparameters left out of the static ones. */
function tuningJobRequest(spec: WorkloadSpec, datasetPath: string): object {
  const tuning = spec.tuningJob!;
  const tuned = new Set(Object.keys(tuning.ranges));
  const staticValues = Object.fromEntries(Object.entries(asStrings(spec.trainingJob.hyperParameters)).filter(([key]) => !tuned.has(key)));
  const ranges: RangeRequest[] = Object.entries(tuning.ranges).map(([name, range]) =>
    'values' in range
      ? { kind: 'Categorical', name, values: range.values.map(String) }
      : { kind: range.integer ? 'Integer' : 'Continuous', name, min: String(range.min), max: String(range.max), ...(range.scaling ? { scaling: range.scaling } : {}) },
  );
  return createTuningJobRequest({
    name: tuning.name,
    strategy: tuning.strategy ?? 'Bayesian',
    objective: { type: tuning.objective.type ?? 'Minimize', metricName: tuning.objective.metric },
    ranges,
    ...(tuning.maxJobs !== undefined ? { maxNumberOfTrainingJobs: tuning.maxJobs } : {}),
    maxParallelTrainingJobs: tuning.maxParallel ?? 1,
    ...(tuning.earlyStopping ? { earlyStopping: tuning.earlyStopping } : {}),
    ...(tuning.randomSeed !== undefined ? { randomSeed: tuning.randomSeed } : {}),
    trial: trainingJobRequest(spec.trainingJob, datasetPath, staticValues),
  });
}

async function apply(client: KennelClient, spec: WorkloadSpec, file: string): Promise<void> {
  const say = (line: string) => process.stdout.write(line + '\n');
  const inSection = async <T>(section: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof DomainError) throw new DomainError(error.code, `${file}: ${section}: ${error.message}`, error.details);
      throw error;
    }
  };
  /** The described resource, or undefined when the service says it does not exist. */
  const existing = async <T>(describe: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await describe();
    } catch (error) {
      if ((error instanceof AwsServiceError && error.isNotFound) || (error instanceof DomainError && error.code === 'NotFound')) return undefined;
      throw error;
    }
  };

  const datasetName = spec.trainingJob.datasetName ?? spec.dataset.name;
  if (await existing(() => client.kennel('GET', `/datasets/${spec.dataset.name}`))) say(`dataset ${spec.dataset.name}: exists`);
  else {
    await inSection('dataset', () => client.kennel('POST', '/datasets', spec.dataset));
    say(`dataset ${spec.dataset.name}: registered`);
  }
  const dataset = await client.kennel<{ path: string }>('GET', `/datasets/${datasetName}`);

  let tunedValues: Record<string, string> = {};
  if (spec.tuningJob) {
    const tuningName = spec.tuningJob.name;
    const described = await existing(() => client.sageMaker<{ HyperParameterTuningJobStatus: string }>('DescribeHyperParameterTuningJob', { HyperParameterTuningJobName: tuningName }));
    if (described) say(`tuning job ${tuningName}: exists (${described.HyperParameterTuningJobStatus})`);
    else {
      await inSection('tuningJob', () => client.sageMaker('CreateHyperParameterTuningJob', tuningJobRequest(spec, dataset.path)));
      say(`tuning job ${tuningName}: started`);
    }
    const report = await waitForTuningJob(client, tuningName);
    const best = bestTrial(report);
    if (report.status !== 'Completed' || !best) {
      throw new DomainError('Conflict', `${file}: tuningJob: ${tuningName} ended ${report.status}${report.failureReason ? `: ${report.failureReason}` : ''}`);
    }
    tunedValues = best.hyperParameters;
    say(`tuning job ${tuningName}: Completed; best ${report.objective.metricName} ${best.final} with ${Object.entries(tunedValues).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }

  const jobName = spec.trainingJob.name;
  const job = await existing(() => client.sageMaker<TrainingJobDescription>('DescribeTrainingJob', { TrainingJobName: jobName }));
  if (job) say(`training job ${jobName}: exists (${job.TrainingJobStatus})`);
  else {
    const hyperParameters = { ...asStrings(spec.trainingJob.hyperParameters), ...tunedValues };
    // The rules watch the job itself; a tuning job's trials (TrainingJobDefinition) have no debugger settings on SageMaker either.
    const request = { ...trainingJobRequest(spec.trainingJob, dataset.path, hyperParameters), ...debuggerRequestMembers(spec.trainingJob.debugger ?? {}) };
    await inSection('trainingJob', () => client.sageMaker('CreateTrainingJob', request));
    say(`training job ${jobName}: started`);
  }
  const finished = await waitForJob(client, jobName);
  if (finished.TrainingJobStatus !== 'Completed') {
    throw new DomainError('Conflict', `${file}: trainingJob: ${jobName} ended ${finished.TrainingJobStatus}${finished.FailureReason ? `: ${finished.FailureReason}` : ''}`);
  }
  const accuracy = finished.metrics.finalMetrics?.testAccuracy;
  if (accuracy !== undefined) say(`training job ${jobName}: Completed, test accuracy ${(100 * accuracy).toFixed(1)}%`);
  else say(`training job ${jobName}: Completed, model at ${finished.ModelArtifacts.S3ModelArtifacts}`);
  if (!spec.model || !spec.endpoint) return;

  const modelName = spec.model.name;
  const endpointSpec = spec.endpoint;
  if (await existing(() => client.sageMaker('DescribeModel', { ModelName: modelName }))) say(`model ${modelName}: exists`);
  else {
    const source =
      spec.model.trainingJobName && spec.model.trainingJobName !== jobName
        ? await client.sageMaker<TrainingJobDescription>('DescribeTrainingJob', { TrainingJobName: spec.model.trainingJobName })
        : finished;
    await inSection('model', () =>
      client.sageMaker('CreateModel', {
        ModelName: modelName,
        PrimaryContainer: { Image: IMAGE_CLASSIFIER_IMAGE, ModelDataUrl: source.ModelArtifacts.S3ModelArtifacts },
        ExecutionRoleArn: KENNEL_EXECUTION_ROLE_ARN,
      }),
    );
    say(`model ${modelName}: created`);
  }

  const configName = spec.endpointConfig?.name ?? endpointSpec.endpointConfigName ?? endpointSpec.name;
  if (await existing(() => client.sageMaker('DescribeEndpointConfig', { EndpointConfigName: configName }))) say(`endpoint config ${configName}: exists`);
  else {
    const variants = spec.endpointConfig?.productionVariants ?? [{ variantName: 'AllTraffic', modelName, initialInstanceCount: 1 }];
    await inSection('endpointConfig', () =>
      client.sageMaker('CreateEndpointConfig', {
        EndpointConfigName: configName,
        ProductionVariants: variants.map((variant) => ({
          VariantName: variant.variantName ?? 'AllTraffic',
          ModelName: variant.modelName,
          InitialInstanceCount: variant.initialInstanceCount ?? 1,
          InstanceType: variant.instanceType ?? 'ml.m5.large',
          InitialVariantWeight: variant.initialVariantWeight,
          KennelBatching: variant.batching && { MaxBatchSize: variant.batching.maxBatchSize, MaxQueueDelayMilliseconds: variant.batching.maxDelayMs },
        })),
      }),
    );
    say(`endpoint config ${configName}: created`);
  }

  const endpointName = endpointSpec.name;
  if (await existing(() => client.sageMaker('DescribeEndpoint', { EndpointName: endpointName }))) say(`endpoint ${endpointName}: exists`);
  else await inSection('endpoint', () => client.sageMaker('CreateEndpoint', { EndpointName: endpointName, EndpointConfigName: configName }));
  const endpoint = await waitForEndpoint(client, endpointName);
  say(`endpoint ${endpointName} ${endpoint.EndpointStatus}${endpoint.FailureReason ? `: ${endpoint.FailureReason}` : ''}`);
  if (endpoint.EndpointStatus !== 'InService') {
    process.exitCode = 1;
    return;
  }
  await inSection('functions', () => applyFunctions(client, spec, say));
}
