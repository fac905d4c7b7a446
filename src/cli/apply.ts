import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { DomainError } from '../core/errors.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';
import { AwsServiceError, type KennelClient } from './client.ts';
import { connect, globalOptions, kennelHome } from './context.ts';
import { waitForEndpoint } from './endpoints.ts';
import type { TrainingJobDescription } from './sagemaker-shapes.ts';
import { loadWorkloadSpec, type WorkloadSpec } from './spec.ts';
import { createTrainingJobRequest } from './training-request.ts';
import { waitForJob } from './training-jobs.ts';

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('Create everything a workload spec describes (dataset → training job → model → endpoint), skipping what exists')
    .requiredOption('-f, --file <spec.yaml>', 'workload spec file')
    .action(async (options: { file: string }, command: Command) => {
      const spec = await loadWorkloadSpec(options.file, kennelHome(globalOptions(command)));
      await apply(await connect(command), spec, options.file);
    });
}

/** The spec's training job as the CreateTrainingJob request it stands for: backbone settings become hyperparameters. */
function trainingJobRequest(spec: WorkloadSpec, datasetPath: string): object {
  const job = spec.trainingJob;
  const hyperParameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(job.hyperParameters ?? {})) hyperParameters[key] = String(value);
  if ('path' in job.backbone) {
    const { inputName, outputName, featureSize, preprocessing } = job.backbone;
    const settings: Record<string, string | number | undefined> = {
      backbone_input_name: inputName,
      backbone_output_name: outputName,
      backbone_feature_size: featureSize,
      resize_size: preprocessing?.resizeSize,
      crop_size: preprocessing?.cropSize,
      normalize_mean: preprocessing?.mean?.join(','),
      normalize_std: preprocessing?.std?.join(','),
      input_layout: preprocessing?.layout,
    };
    for (const [key, value] of Object.entries(settings)) if (value !== undefined) hyperParameters[key] = String(value);
  }
  return createTrainingJobRequest({
    name: job.name,
    dataUri: pathToFileURL(datasetPath).href,
    ...('path' in job.backbone ? { backboneUri: pathToFileURL(job.backbone.path).href } : {}),
    hyperParameters,
    instanceType: job.instanceType,
    maxRuntimeSeconds: job.maxRuntimeInSeconds,
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

  const jobName = spec.trainingJob.name;
  const job = await existing(() => client.sageMaker<TrainingJobDescription>('DescribeTrainingJob', { TrainingJobName: jobName }));
  if (job) say(`training job ${jobName}: exists (${job.TrainingJobStatus})`);
  else {
    await inSection('trainingJob', () => client.sageMaker('CreateTrainingJob', trainingJobRequest(spec, dataset.path)));
    say(`training job ${jobName}: started`);
  }
  const finished = await waitForJob(client, jobName);
  if (finished.TrainingJobStatus !== 'Completed') {
    throw new DomainError('Conflict', `${file}: trainingJob: ${jobName} ended ${finished.TrainingJobStatus}${finished.FailureReason ? `: ${finished.FailureReason}` : ''}`);
  }
  const accuracy = finished.metrics.finalMetrics?.testAccuracy;
  if (accuracy !== undefined) say(`training job ${jobName}: Completed, test accuracy ${(100 * accuracy).toFixed(1)}%`);

  const modelName = spec.model.name;
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

  const configName = spec.endpointConfig?.name ?? spec.endpoint.endpointConfigName ?? spec.endpoint.name;
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
        })),
      }),
    );
    say(`endpoint config ${configName}: created`);
  }

  const endpointName = spec.endpoint.name;
  if (await existing(() => client.sageMaker('DescribeEndpoint', { EndpointName: endpointName }))) say(`endpoint ${endpointName}: exists`);
  else await inSection('endpoint', () => client.sageMaker('CreateEndpoint', { EndpointName: endpointName, EndpointConfigName: configName }));
  const endpoint = await waitForEndpoint(client, endpointName);
  say(`endpoint ${endpointName} ${endpoint.EndpointStatus}${endpoint.FailureReason ? `: ${endpoint.FailureReason}` : ''}`);
  if (endpoint.EndpointStatus !== 'InService') process.exitCode = 1;
}
