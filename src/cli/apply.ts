import type { Command } from 'commander';
import { DomainError } from '../core/errors.ts';
import type { Dataset } from '../domain/data/dataset.ts';
import type { Endpoint, EndpointConfig, Model } from '../domain/serving/endpoint.ts';
import type { TrainingJob } from '../domain/training/training-job.ts';
import type { KennelClient } from './client.ts';
import { connect, globalOptions, kennelHome } from './context.ts';
import { waitForEndpoint } from './endpoints.ts';
import { loadWorkloadSpec, type WorkloadSpec } from './spec.ts';
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
  const existing = async <T>(path: string): Promise<T | undefined> => {
    try {
      return await client.call<T>('GET', path);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'NotFound') return undefined;
      throw error;
    }
  };

  const datasetName = spec.dataset.name;
  if (await existing<Dataset>(`/datasets/${datasetName}`)) say(`dataset ${datasetName}: exists`);
  else await inSection('dataset', () => client.call('POST', '/datasets', spec.dataset)).then(() => say(`dataset ${datasetName}: registered`));

  const jobName = spec.trainingJob.name;
  let job = await existing<TrainingJob>(`/training-jobs/${jobName}`);
  if (job) say(`training job ${jobName}: exists (${job.status})`);
  else {
    job = await inSection('trainingJob', () =>
      client.call<TrainingJob>('POST', '/training-jobs', { ...spec.trainingJob, datasetName: spec.trainingJob.datasetName ?? datasetName }),
    );
    say(`training job ${jobName}: started`);
  }
  job = await waitForJob(client, jobName);
  if (job.status !== 'Completed') {
    throw new DomainError('Conflict', `${file}: trainingJob: ${jobName} ended ${job.status}${job.failureReason ? `: ${job.failureReason}` : ''}`);
  }
  if (job.finalMetrics) say(`training job ${jobName}: Completed, test accuracy ${(100 * job.finalMetrics.testAccuracy).toFixed(1)}%`);

  const modelName = spec.model.name;
  if (await existing<Model>(`/models/${modelName}`)) say(`model ${modelName}: exists`);
  else {
    await inSection('model', () => client.call('POST', '/models', { name: modelName, trainingJobName: spec.model.trainingJobName ?? jobName }));
    say(`model ${modelName}: created`);
  }

  const configName = spec.endpointConfig?.name ?? spec.endpoint.endpointConfigName ?? spec.endpoint.name;
  if (await existing<EndpointConfig>(`/endpoint-configs/${configName}`)) say(`endpoint config ${configName}: exists`);
  else {
    const productionVariants = spec.endpointConfig?.productionVariants ?? [{ variantName: 'AllTraffic', modelName, initialInstanceCount: 1 }];
    await inSection('endpointConfig', () => client.call('POST', '/endpoint-configs', { name: configName, productionVariants }));
    say(`endpoint config ${configName}: created`);
  }

  const endpointName = spec.endpoint.name;
  if (await existing<Endpoint>(`/endpoints/${endpointName}`)) say(`endpoint ${endpointName}: exists`);
  else await inSection('endpoint', () => client.call('POST', '/endpoints', { name: endpointName, endpointConfigName: configName }));
  const endpoint = await waitForEndpoint(client, endpointName);
  say(`endpoint ${endpointName} ${endpoint.status}${endpoint.failureReason ? `: ${endpoint.failureReason}` : ''}`);
  if (endpoint.status !== 'InService') process.exitCode = 1;
}
