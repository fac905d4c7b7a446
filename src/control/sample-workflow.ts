import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DomainError, describeError } from '../core/errors.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';
import type { Endpoint } from '../domain/serving/endpoint.ts';
import type { TrainingJob } from '../domain/training/training-job.ts';
import { generateSampleImages } from '../runtime/samples/sample-images.ts';
import type { Platform } from './platform.ts';
import { waitForEndpoint, waitForEndpointDeleted, waitForTrainingJob } from './wait.ts';

/** Names of everything `kennel up --sample` creates. */
export const SAMPLE_NAMES = {
  dataset: 'sample-images',
  trainingJobPrefix: 'sample-classifier-training',
  model: 'sample-classifier',
  endpointConfig: 'sample-classifier',
  endpoint: 'sample-classifier',
} as const;

export const SAMPLE_HYPERPARAMETERS = { learning_rate: 0.003, batch_size: 32, epochs: 15, hidden_units: 128, seed: 0 };

export interface SampleWorkflowResult {
  trainingJob: TrainingJob;
  endpoint: Endpoint;
  /** A test-split image and its class folder, for the printed examples. */
  exampleImage: { path: string; folder: string };
  imagesDir: string;
}

/**
 * Brings the sample classifier up from whatever state the folder is in: each step
 * is skipped when its result exists already, so a restart neither regenerates
 * images nor retrains. A job left in progress by a crash is resumed by the
 * controller and awaited here.
 */
export async function ensureSampleEndpoint(
  platform: Platform,
  samplesDir: string,
  onImageProgress?: (done: number, total: number) => void,
): Promise<SampleWorkflowResult> {
  const imagesDir = join(samplesDir, 'images');
  const generated = await generateSampleImages(imagesDir, { onProgress: onImageProgress });

  if (!platform.deps.store.datasets.get(SAMPLE_NAMES.dataset)) {
    await platform.datasets.register({ name: SAMPLE_NAMES.dataset, path: imagesDir });
  }

  let trainingJob = await ensureTrainedJob(platform, imagesDir);
  let endpoint: Endpoint;
  try {
    endpoint = await deploy(platform, trainingJob);
  } catch (error) {
    // The model's files are unusable (a damaged artifact, say): training again rewrites
    // them, so the sample heals itself instead of failing at every start.
    platform.deps.logger.warn('the sample endpoint could not load its model; training it again', { reason: describeError(error) });
    await removeDeployment(platform);
    trainingJob = await trainNewJob(platform, imagesDir);
    endpoint = await deploy(platform, trainingJob);
  }

  const folder = generated.classes[0];
  const [firstImage] = (await readdir(join(imagesDir, 'test', folder))).filter((file) => file.endsWith('.jpg')).sort();
  const exampleImage = { path: join(imagesDir, 'test', folder, firstImage), folder };
  return { trainingJob, endpoint, exampleImage, imagesDir };
}

/** Model, endpoint config and endpoint for the job, creating what is missing; resolves once InService. */
async function deploy(platform: Platform, trainingJob: TrainingJob): Promise<Endpoint> {
  const { store } = platform.deps;
  if (!store.models.get(SAMPLE_NAMES.model)) {
    await platform.models.create({
      name: SAMPLE_NAMES.model,
      executionRoleArn: KENNEL_EXECUTION_ROLE_ARN,
      image: IMAGE_CLASSIFIER_IMAGE,
      modelDataUrl: trainingJob.modelArtifactsUri,
    });
  }
  if (!store.endpointConfigs.get(SAMPLE_NAMES.endpointConfig)) {
    platform.endpointConfigs.create({
      name: SAMPLE_NAMES.endpointConfig,
      productionVariants: [{ variantName: 'AllTraffic', modelName: SAMPLE_NAMES.model, instanceType: 'ml.m5.large' }],
    });
  }
  const existing = store.endpoints.get(SAMPLE_NAMES.endpoint);
  if (existing?.status === 'Failed') {
    platform.endpoints.delete(SAMPLE_NAMES.endpoint);
    await waitForEndpointDeleted(platform, SAMPLE_NAMES.endpoint);
  }
  if (!existing || existing.status === 'Failed') {
    platform.endpoints.create({ name: SAMPLE_NAMES.endpoint, endpointConfigName: SAMPLE_NAMES.endpointConfig });
  }
  return waitForEndpoint(platform, SAMPLE_NAMES.endpoint);
}

async function removeDeployment(platform: Platform): Promise<void> {
  const { store } = platform.deps;
  if (store.endpoints.get(SAMPLE_NAMES.endpoint)) {
    platform.endpoints.delete(SAMPLE_NAMES.endpoint);
    await waitForEndpointDeleted(platform, SAMPLE_NAMES.endpoint);
  }
  if (store.endpointConfigs.get(SAMPLE_NAMES.endpointConfig)) platform.endpointConfigs.delete(SAMPLE_NAMES.endpointConfig);
  if (store.models.get(SAMPLE_NAMES.model)) platform.models.delete(SAMPLE_NAMES.model);
}

/** The sample's training jobs, oldest first. */
function sampleJobs(platform: Platform): TrainingJob[] {
  return platform.trainingJobs
    .list()
    .filter((job) => job.name.startsWith(SAMPLE_NAMES.trainingJobPrefix))
    .sort((a, b) => a.createdAtMs - b.createdAtMs);
}

async function ensureTrainedJob(platform: Platform, imagesDir: string): Promise<TrainingJob> {
  const latest = sampleJobs(platform).at(-1);
  if (latest?.status === 'Completed') return latest;
  if (latest && (latest.status === 'InProgress' || latest.status === 'Stopping')) {
    const finished = await waitForTrainingJob(platform, latest.name);
    if (finished.status === 'Completed') return finished;
  }
  return trainNewJob(platform, imagesDir);
}

async function trainNewJob(platform: Platform, imagesDir: string): Promise<TrainingJob> {
  const job = await platform.trainingJobs.create({
    name: `${SAMPLE_NAMES.trainingJobPrefix}-${sampleJobs(platform).length + 1}`,
    trainingImage: IMAGE_CLASSIFIER_IMAGE,
    roleArn: KENNEL_EXECUTION_ROLE_ARN,
    channels: [{ channelName: 'training', uri: pathToFileURL(imagesDir).href, s3DataType: 'S3Prefix' }],
    instanceType: 'ml.m5.large',
    hyperParameters: SAMPLE_HYPERPARAMETERS,
  });
  const finished = await waitForTrainingJob(platform, job.name);
  if (finished.status !== 'Completed') {
    throw new DomainError('Conflict', `Sample training job ${finished.name} ended ${finished.status}: ${finished.failureReason ?? ''}`);
  }
  return finished;
}
