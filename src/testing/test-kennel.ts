import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Clock } from '../core/clock.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { startKennel, type Kennel, type StartOptions } from '../cli/start.ts';
import type { PlatformLimits } from '../control/deps.ts';
import type { AutoscalingSettings } from '../domain/serving/scaling.ts';
import type { Platform } from '../control/platform.ts';
import type { CreateTrainingJobInput } from '../control/training-jobs.ts';
import type { CreateTuningJobInput } from '../control/tuning-jobs.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';
import type { UrlFetchPolicy } from '../domain/serving/url-policy.ts';
import { generateSampleImages } from '../runtime/samples/sample-images.ts';
import { buildSlowBackbone } from './slow-backbone.ts';
import { waitForEndpoint, waitForTrainingJob } from '../control/wait.ts';
import type { TrainingJob } from '../domain/training/training-job.ts';

export interface TestKennel {
  kennel: Kennel;
  home: string;
  url: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

/** A real Kennel (SQLite, artifacts, HTTP on an ephemeral port) in a temporary folder. */
export async function startTestKennel(
  options: {
    urlFetchPolicy?: Partial<UrlFetchPolicy>;
    home?: string;
    limits?: Partial<PlatformLimits>;
    autoscaling?: Partial<AutoscalingSettings>;
    logger?: Logger;
    clock?: Clock;
    functions?: StartOptions['functions'];
  } = {},
): Promise<TestKennel> {
  const home = options.home ?? (await mkdtemp(join(tmpdir(), 'kennel-test-')));
  const kennel = await startKennel({
    home,
    host: '127.0.0.1',
    port: 0,
    logger: options.logger ?? silentLogger,
    urlFetchPolicy: options.urlFetchPolicy,
    limits: options.limits,
    autoscaling: options.autoscaling,
    clock: options.clock,
    functions: options.functions,
  });
  return {
    kennel,
    home,
    url: kennel.server.url,
    credentials: { accessKeyId: kennel.admin.key.accessKeyId, secretAccessKey: kennel.admin.key.secretAccessKey },
    async close() {
      await kennel.close();
      if (!options.home) await rm(home, { recursive: true, force: true });
    },
  };
}

/** A small generated image set: enough classes and images to learn in seconds. */
export async function makeSmallDataset(dir: string, seed = 11): Promise<{ classes: string[] }> {
  return generateSampleImages(dir, { seed, classes: 4, perClass: { train: 12, valid: 4, test: 4 } });
}

/** Hyperparameters that learn the small dataset in a second or two. */
export const SMALL_HYPERPARAMETERS = { epochs: 8, learning_rate: 0.003, batch_size: 16, hidden_units: 32, seed: 1 };

/** A CreateTrainingJob input for the image classifier on the sample backbone, reading `imagesDir`. */
export function imageClassifierJob(name: string, imagesDir: string, patch: Partial<CreateTrainingJobInput> = {}): CreateTrainingJobInput {
  return {
    name,
    trainingImage: IMAGE_CLASSIFIER_IMAGE,
    roleArn: KENNEL_EXECUTION_ROLE_ARN,
    channels: [{ channelName: 'training', uri: pathToFileURL(imagesDir).href, s3DataType: 'S3Prefix' }],
    instanceType: 'ml.m5.large',
    hyperParameters: SMALL_HYPERPARAMETERS,
    ...patch,
  };
}

/**
 * A CreateHyperParameterTuningJob input for the image classifier on the sample backbone,
 * reading `imagesDir`: Random over learning_rate, one trial at a time, with `staticHyperParameters`.
 */
export function imageClassifierTuningJob(
  name: string,
  imagesDir: string,
  staticHyperParameters: Record<string, string>,
  patch: Partial<CreateTuningJobInput> = {},
): CreateTuningJobInput {
  return {
    name,
    strategy: 'Random',
    objective: { type: 'Minimize', metricName: 'validation:loss' },
    ranges: [{ kind: 'Continuous', name: 'learning_rate', min: 0.001, max: 0.01, scaling: 'Logarithmic' }],
    maxNumberOfTrainingJobs: 2,
    maxParallelTrainingJobs: 1,
    template: {
      trainingImage: IMAGE_CLASSIFIER_IMAGE,
      trainingInputMode: 'File',
      roleArn: KENNEL_EXECUTION_ROLE_ARN,
      staticHyperParameters,
      channels: [{ channelName: 'training', uri: pathToFileURL(imagesDir).href, s3DataType: 'S3Prefix' }],
    },
    ...patch,
  };
}

/** Model, endpoint config and endpoint `name` for a completed job, resolved once InService. */
export async function deployTrainingJob(platform: Platform, job: TrainingJob, name: string): Promise<void> {
  await platform.models.create({
    name,
    executionRoleArn: KENNEL_EXECUTION_ROLE_ARN,
    image: IMAGE_CLASSIFIER_IMAGE,
    modelDataUrl: job.modelArtifactsUri,
  });
  platform.endpointConfigs.create({ name, productionVariants: [{ variantName: 'AllTraffic', modelName: name }] });
  platform.endpoints.create({ name, endpointConfigName: name });
  await waitForEndpoint(platform, name);
}

/**
 * Trains the small dataset on the sample backbone and deploys endpoint `name`.
 * Returns the completed training job.
 */
export async function deploySmallClassifier(test: TestKennel, name = 'toy'): Promise<TrainingJob> {
  const { platform } = test.kennel;
  const imagesDir = join(test.home, 'toy-images');
  await makeSmallDataset(imagesDir);
  await platform.trainingJobs.create(imageClassifierJob(`${name}-job`, imagesDir));
  const job = await waitForTrainingJob(platform, `${name}-job`);
  if (job.status !== 'Completed') throw new Error(`training failed: ${job.failureReason}`);
  await deployTrainingJob(platform, job, name);
  return job;
}

/**
 * Endpoint `name` on a backbone that takes about a third of a second per image (see
 * slow-backbone.ts), trained on a tiny image set; returns one of its test JPEGs.
 */
export async function deploySlowClassifier(test: TestKennel, name = 'slow'): Promise<Uint8Array> {
  const images = join(test.home, `${name}-images`);
  await generateSampleImages(images, { seed: 3, classes: 2, perClass: { train: 2, valid: 1, test: 1 } });
  const backbone = join(test.home, `${name}-backbone.onnx`);
  await writeFile(backbone, buildSlowBackbone());
  const { platform } = test.kennel;
  await platform.trainingJobs.create(
    imageClassifierJob(`${name}-job`, images, {
      channels: [
        { channelName: 'training', uri: pathToFileURL(images).href, s3DataType: 'S3Prefix' },
        { channelName: 'backbone', uri: pathToFileURL(backbone).href, s3DataType: 'S3Prefix' },
      ],
      hyperParameters: { epochs: 2, hidden_units: 8 },
    }),
  );
  const job = await waitForTrainingJob(platform, `${name}-job`);
  if (job.status !== 'Completed') throw new Error(`training failed: ${job.failureReason}`);
  await deployTrainingJob(platform, job, name);
  const classDir = join(images, 'test', (await readdir(join(images, 'test')))[0]);
  return readFile(join(classDir, (await readdir(classDir))[0]));
}
