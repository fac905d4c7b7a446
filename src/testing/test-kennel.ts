import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/logger.ts';
import { startKennel, type Kennel } from '../cli/start.ts';
import type { UrlFetchPolicy } from '../domain/serving/url-policy.ts';
import { generateSampleImages } from '../runtime/samples/sample-images.ts';
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
export async function startTestKennel(options: { urlFetchPolicy?: Partial<UrlFetchPolicy>; home?: string } = {}): Promise<TestKennel> {
  const home = options.home ?? (await mkdtemp(join(tmpdir(), 'kennel-test-')));
  const kennel = await startKennel({ home, host: '127.0.0.1', port: 0, logger: silentLogger, urlFetchPolicy: options.urlFetchPolicy });
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

/**
 * Registers a small dataset, trains on the sample backbone, and deploys endpoint `name`.
 * Returns the completed training job.
 */
export async function deploySmallClassifier(test: TestKennel, name = 'toy'): Promise<TrainingJob> {
  const { platform } = test.kennel;
  const imagesDir = join(test.home, 'toy-images');
  await makeSmallDataset(imagesDir);
  await platform.datasets.register({ name: `${name}-data`, path: imagesDir });
  await platform.trainingJobs.create({
    name: `${name}-job`,
    datasetName: `${name}-data`,
    backbone: { sample: true },
    hyperParameters: { epochs: 8, learning_rate: 0.003, batch_size: 16, hidden_units: 32, seed: 1 },
  });
  const job = await waitForTrainingJob(platform, `${name}-job`);
  if (job.status !== 'Completed') throw new Error(`training failed: ${job.failureReason}`);
  platform.models.create({ name, trainingJobName: job.name });
  platform.endpointConfigs.create({ name, productionVariants: [{ modelName: name }] });
  platform.endpoints.create({ name, endpointConfigName: name });
  await waitForEndpoint(platform, name);
  return job;
}
