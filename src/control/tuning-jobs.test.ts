import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createArtifactStore } from '../store/artifacts.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { assertRejectsWithDomainError } from '../testing/assert-domain-error.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { testControlDeps } from '../testing/control-deps.ts';
import { imageClassifierTuningJob, makeSmallDataset } from '../testing/test-kennel.ts';
import { PreparedDataCache, type ImageClassifierData } from './prepared-data.ts';
import { createPlatform, type Platform } from './platform.ts';
import type { CreateTuningJobInput } from './tuning-jobs.ts';
import { waitForTuningJob } from './wait.ts';


describe('hyperparameter tuning jobs through the control plane', () => {
  let dir: string;
  let images: string;
  let platform: Platform;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-tuning-'));
    platform = createPlatform(testControlDeps(dir, createMemoryStore()));
    platform.controller.start(50);
    images = join(dir, 'images');
    await makeSmallDataset(images);
  });
  after(async () => {
    await platform.controller.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const tuning = (name: string, patch: Partial<CreateTuningJobInput> = {}): CreateTuningJobInput => ({
    name,
    strategy: 'Random',
    objective: { type: 'Maximize', metricName: 'validation:accuracy' },
    ranges: [
      { kind: 'Continuous', name: 'learning_rate', min: 0.001, max: 0.01, scaling: 'Logarithmic' },
      { kind: 'Categorical', name: 'batch_size', values: ['8', '16'] },
    ],
    maxNumberOfTrainingJobs: 4,
    maxParallelTrainingJobs: 2,
    randomSeed: 7,
    template: {
      trainingImage: IMAGE_CLASSIFIER_IMAGE,
      trainingInputMode: 'File',
      roleArn: KENNEL_EXECUTION_ROLE_ARN,
      staticHyperParameters: { epochs: '4', hidden_units: '32', seed: '1' },
      channels: [{ channelName: 'training', uri: pathToFileURL(images).href, s3DataType: 'S3Prefix' }],
    },
    ...patch,
  });

  it('runs its budget of trials, two at a time, and names the best one', async () => {
    await platform.tuningJobs.create(tuning('random'));
    const job = await waitForTuningJob(platform, 'random');
    assert.equal(job.status, 'Completed', job.failureReason);
    assert.equal(job.trials.length, 4);
    assert.deepEqual(job.trials.map((trial) => trial.number), [0, 1, 2, 3]);
    const trainingJobs = job.trials.map((trial) => platform.trainingJobs.describe(trial.trainingJobName));
    for (const trainingJob of trainingJobs) {
      assert.equal(trainingJob.status, 'Completed', trainingJob.failureReason);
      assert.equal(trainingJob.spec.tuningJobName, 'random');
      const rate = Number(trainingJob.spec.hyperParameters.learning_rate);
      assert.ok(rate >= 0.001 && rate <= 0.01, `learning_rate ${rate}`);
      assert.ok(['8', '16'].includes(trainingJob.spec.hyperParameters.batch_size));
      assert.equal(trainingJob.spec.hyperParameters.epochs, '4');
      assert.equal(trainingJob.embeddingStats, undefined, 'a trial embeds nothing: the tuning job did, once');
    }
    // Never more than two trials at once: each trial started after all but one of the earlier ones had ended.
    const spans = trainingJobs.map((trainingJob) => [trainingJob.createdAtMs, trainingJob.endedAtMs!] as const);
    for (const [start] of spans) {
      assert.ok(spans.filter(([from, to]) => from <= start && to > start).length <= 2);
    }
  });

  it('refuses, before anything runs, what no trial could train with', async () => {
    await assertRejectsWithDomainError(platform.tuningJobs.create(tuning('bad-range', { ranges: [{ kind: 'Continuous', name: 'learning_rate', min: 0.1, max: 0.01, scaling: 'Linear' }] })), 'ValidationError', { message: /MinValue|min/i });
    await assertRejectsWithDomainError(platform.tuningJobs.create(tuning('bad-name', { ranges: [{ kind: 'Integer', name: 'depth', min: 1, max: 3, scaling: 'Linear' }] })), 'ValidationError', { message: /depth is not one the image classifier takes/ });
    await assertRejectsWithDomainError(platform.tuningJobs.create(tuning('bad-metric', { objective: { type: 'Minimize', metricName: 'validation:f1' } })), 'ValidationError', { message: /neither one the image classifier publishes/ });
    await assertRejectsWithDomainError(platform.tuningJobs.create(tuning('too-parallel', { maxParallelTrainingJobs: 5 })), 'ValidationError', { message: /MaxParallelTrainingJobs/ });
    assert.deepEqual(
      platform.tuningJobs.list().map((job) => job.name),
      ['random'],
      'nothing was recorded for a refused request',
    );
  });
});

describe('the trials of a tuning job', () => {
  it('train on the embeddings the job prepared once, and read no image: they finish with the images gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kennel-tuning-noimages-'));
    const images = join(dir, 'images');
    await makeSmallDataset(images);
    const artifacts = createArtifactStore(join(dir, 'artifacts'));
    /** Deletes the images the moment the embeddings are stored, before the job can start a trial. */
    class DeletingImages extends PreparedDataCache {
      override async save(data: ImageClassifierData): Promise<string> {
        const digest = await super.save(data);
        await rm(images, { recursive: true, force: true });
        return digest;
      }
    }
    const store = createMemoryStore();
    // Every image read is hashed and looked up in the embedding cache before the backbone runs,
    // and every backbone batch is reported as embedding progress: count both once trials exist.
    let cacheLookupsInTrials = 0;
    const lookup = store.embeddings.getMany.bind(store.embeddings);
    store.embeddings.getMany = (key, digests) => {
      if (store.trainingJobs.list().length > 0) cacheLookupsInTrials += digests.length;
      return lookup(key, digests);
    };
    const deps = testControlDeps(dir, store, { artifacts, preparedData: new DeletingImages(artifacts) });
    const trialProgress: string[] = [];
    deps.events.subscribe((event) => event.kind === 'training-progress' && event.jobName !== 'no-images' && trialProgress.push(event.jobName));
    const platform = createPlatform(deps);
    platform.controller.start(50);
    try {
      await platform.tuningJobs.create(
        imageClassifierTuningJob('no-images', images, { epochs: '3', hidden_units: '16' }, { maxNumberOfTrainingJobs: 3, randomSeed: 3 }),
      );
      const job = await waitForTuningJob(platform, 'no-images');
      assert.equal(job.status, 'Completed', job.failureReason);
      assert.equal(job.trials.length, 3);
      for (const trial of job.trials) {
        const trainingJob = platform.trainingJobs.describe(trial.trainingJobName);
        assert.equal(trainingJob.status, 'Completed', trainingJob.failureReason);
        assert.equal(trainingJob.epochs.length, 3);
        assert.equal(trainingJob.embeddingStats, undefined, 'the trial ran no backbone');
      }
      assert.equal(cacheLookupsInTrials, 0, 'no trial hashed an image');
      assert.deepEqual(trialProgress, [], 'no trial embedded anything');
    } finally {
      await platform.controller.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('stop a trial early whose objective lags the earlier trials, and let the others finish', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kennel-tuning-early-'));
    const images = join(dir, 'images');
    await makeSmallDataset(images);
    const platform = createPlatform(testControlDeps(dir, createMemoryStore()));
    platform.controller.start(50);
    try {
      await platform.tuningJobs.create(
        imageClassifierTuningJob(
          'early',
          images,
          // Long enough per trial (seconds) that the median rule sees the last trial's epochs while it trains.
          { epochs: '800', hidden_units: '256', batch_size: '16' },
          {
            strategy: 'Grid',
            // In the grid's order: three rates that learn, then one too small to move the loss.
            ranges: [{ kind: 'Categorical', name: 'learning_rate', values: ['0.003', '0.002', '0.004', '0.0000001'] }],
            maxNumberOfTrainingJobs: undefined,
            earlyStopping: 'Auto',
          },
        ),
      );
      const job = await waitForTuningJob(platform, 'early');
      assert.equal(job.status, 'Completed', job.failureReason);
      const trials = job.trials.map((trial) => ({ trial, trainingJob: platform.trainingJobs.describe(trial.trainingJobName) }));
      assert.deepEqual(
        trials.map(({ trial, trainingJob }) => [trial.hyperParameters.learning_rate, trainingJob.status, trial.earlyStopped === true]),
        [
          ['0.003', 'Completed', false],
          ['0.002', 'Completed', false],
          ['0.004', 'Completed', false],
          ['0.0000001', 'Stopped', true],
        ],
      );
      const lagging = trials[3].trainingJob;
      assert.ok(lagging.epochs.length < 800, `stopped part-way, after ${lagging.epochs.length} epochs`);
      assert.ok(
        lagging.secondaryStatusTransitions.some((transition) => /Stopped early: its objective lags behind earlier trials/.test(transition.message)),
        'the trial says why it stopped',
      );
    } finally {
      await platform.controller.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
