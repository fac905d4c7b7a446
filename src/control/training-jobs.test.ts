import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DomainError } from '../core/errors.ts';
import { DEFAULT_BUCKET } from '../domain/data/object-uri.ts';
import { STOP_GRACE_SECONDS } from '../domain/training/training-job-decider.ts';
import { isTerminal, type ImageClassifierJob } from '../domain/training/training-job.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { DEFAULT_LIMITS } from './deps.ts';
import { testControlDeps } from '../testing/control-deps.ts';
import { imageClassifierJob, makeSmallDataset } from '../testing/test-kennel.ts';
import { readModelPackage } from './model-package.ts';
import { createPlatform, type Platform } from './platform.ts';
import { waitForTrainingJob } from './wait.ts';

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

describe('training jobs through the control plane', () => {
  let dir: string;
  let images: string;
  let platform: Platform;
  const clock = { ms: 1_800_000_000_000, now: () => clock.ms };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-control-'));
    platform = createPlatform(testControlDeps(dir, createMemoryStore(), { clock }));
    images = join(dir, 'images');
    await makeSmallDataset(images);
  });
  after(async () => {
    await platform.controller.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const train = async (name: string, hyperParameters: Record<string, string | number> = { epochs: 3 }, patch = {}) => {
    await platform.trainingJobs.create(imageClassifierJob(name, images, { hyperParameters, ...patch }));
    return waitForTrainingJob(platform, name);
  };

  it('runs every epoch, records true-mean metrics, learns the classes, and writes model.tar.gz to the output path', async () => {
    const job = await train('first', { epochs: 4, batch_size: 5, learning_rate: 0.003 });
    assert.equal(job.status, 'Completed', job.failureReason);
    assert.equal(job.secondaryStatus, 'Completed');
    assert.deepEqual(job.epochs.map((epoch) => epoch.epoch), [1, 2, 3, 4]);
    for (const epoch of job.epochs) {
      // 16 validation images: every accuracy is a multiple of 1/16, never floored to 0 or 1.
      assert.equal(Math.round(epoch.validationAccuracy * 16), epoch.validationAccuracy * 16);
      assert.ok(epoch.trainLoss > 0 && Number.isFinite(epoch.trainLoss));
    }
    assert.ok(job.epochs[3].trainLoss < job.epochs[0].trainLoss, 'training loss falls');
    // Four drawn shapes are easy: far above chance (25%), and better than a uniform guess's loss, ln 4.
    const final = job.finalMetrics!;
    assert.ok(final.testAccuracy >= 0.75, `test accuracy ${final.testAccuracy}`);
    assert.equal(Math.round(final.testAccuracy * 16), final.testAccuracy * 16);
    assert.ok(final.testLoss < Math.log(4), `test loss ${final.testLoss}`);
    assert.deepEqual(
      job.secondaryStatusTransitions.map((transition) => transition.status),
      ['Starting', 'Downloading', 'Training', 'Training', 'Uploading', 'Completed'],
    );
    assert.ok(job.secondaryStatusTransitions.every((transition) => transition.endMs !== undefined && transition.message.length > 0));

    assert.equal(job.modelArtifactsUri, `s3://${DEFAULT_BUCKET}/first/output/model.tar.gz`);
    const archive = await platform.deps.objects.get(DEFAULT_BUCKET, 'first/output/model.tar.gz');
    assert.equal(createHash('sha256').update(archive).digest('hex'), job.artifacts!.modelArchive);
    const model = await readModelPackage(archive, job.modelArtifactsUri!);
    assert.deepEqual(model.backbone, (job as ImageClassifierJob).spec.backbone);
    assert.equal(model.labels.classes.length, 4);
    assert.equal(model.trainingJobName, 'first');
  });

  it('a job seen ended has its whole log: the last lines are written before the status changes', async () => {
    await platform.trainingJobs.create(imageClassifierJob('logged', images, { hyperParameters: { epochs: 2 } }));
    while (!isTerminal(platform.trainingJobs.describe('logged').status)) await new Promise((resolve) => setTimeout(resolve, 1));
    const messages = (await platform.deps.logs.read('logged')).events.map((event) => event.message);
    assert.ok(messages.some((message) => message.startsWith('test:loss=')), `the log as the job ended: ${messages.slice(-3).join(' | ')}`);
  });

  it('a second job on the same images and backbone runs no backbone forward pass', async () => {
    const job = await train('second');
    assert.equal(job.status, 'Completed', job.failureReason);
    assert.deepEqual(job.embeddingStats, { computed: 0, cached: 80 });
  });

  it('reads images from s3:// channels, one per split, and writes to a file:// output path', async () => {
    for (const file of await filesUnder(images)) {
      const [split, ...rest] = file.split('/');
      const channel = split === 'valid' ? 'validation' : split;
      await platform.deps.objects.putFile('data', `toy/${channel}/${rest.join('/')}`, join(images, file));
    }
    const output = join(dir, 'models');
    const job = await train('from-s3', { epochs: 2 }, {
      channels: ['train', 'validation', 'test'].map((channel) => ({ channelName: channel, uri: `s3://data/toy/${channel}`, s3DataType: 'S3Prefix' })),
      outputPath: pathToFileURL(output).href,
    });
    assert.equal(job.status, 'Completed', job.failureReason);
    assert.deepEqual(job.embeddingStats, { computed: 0, cached: 80 }, 'the same images by content, whatever their location');
    assert.equal(job.modelArtifactsUri, pathToFileURL(join(output, 'from-s3', 'output', 'model.tar.gz')).href);
    assert.deepEqual(await filesUnder(output), ['from-s3/output/model.tar.gz']);
  });

  it('refuses bad requests with errors that name the problem, and records nothing', async () => {
    const cases: [Parameters<Platform['trainingJobs']['create']>[0], string, RegExp][] = [
      [imageClassifierJob('x', join(dir, 'missing')), 'NotFound', /training: file:\/\/.*missing does not exist/],
      [imageClassifierJob('x', images, { channels: [{ channelName: 'training', uri: 's3://data/nothing-here', s3DataType: 'S3Prefix' }] }), 'NotFound', /has no objects/],
      [imageClassifierJob('x', images, { hyperParameters: { learning_rate: -1 } }), 'ValidationError', /learning_rate/],
      [imageClassifierJob('x', images, { hyperParameters: { batch_size: 'lots' } }), 'ValidationError', /batch_size/],
      [imageClassifierJob('x', images, { hyperParameters: { resize_size: 224 } }), 'ValidationError', /backbone channel/],
      [imageClassifierJob('x', images, { trainingImage: 'my-own/trainer:2' }), 'ValidationError', /is not an image Kennel can run.*kennel\/image-classifier/],
      [imageClassifierJob('x', images, { trainingImage: 'pytorch-training:2.1-cpu-py310' }), 'ValidationError', /sagemaker_program must name the training script/],
      [imageClassifierJob('x', images, { trainingImage: undefined, algorithmName: 'my-algo' }), 'ValidationError', /AlgorithmName/],
      [imageClassifierJob('x', images, { instanceType: 'ml.bogus' }), 'ValidationError', /ml\.bogus/],
      [imageClassifierJob('x', images, { instanceCount: 2 }), 'ValidationError', /InstanceCount must be 1/],
      [imageClassifierJob('x', images, { trainingInputMode: 'Pipe' }), 'ValidationError', /Pipe/],
      [imageClassifierJob('x', images, { outputPath: 'ftp://host/x' }), 'ValidationError', /ftp/],
      [
        imageClassifierJob('x', images, { channels: [{ channelName: 'validation', uri: pathToFileURL(images).href, s3DataType: 'S3Prefix' }] }),
        'ValidationError',
        /train/,
      ],
      [
        imageClassifierJob('x', images, {
          channels: [
            { channelName: 'training', uri: pathToFileURL(images).href, s3DataType: 'S3Prefix' },
            { channelName: 'backbone', uri: pathToFileURL(join(dir, 'nope.onnx')).href, s3DataType: 'S3Prefix' },
          ],
        }),
        'NotFound',
        /nope\.onnx/,
      ],
      [imageClassifierJob('bad name!', images), 'ValidationError', /name/],
      [imageClassifierJob('first', images), 'AlreadyExists', /a training job with this name already exists \(arn:aws:sagemaker:us-east-1:000000000000:training-job\/first\)/],
    ];
    const before = platform.trainingJobs.list().map((job) => job.name);
    for (const [input, code, message] of cases) {
      await assert.rejects(platform.trainingJobs.create(input), (error: unknown) => {
        assert.ok(error instanceof DomainError, String(error));
        assert.equal(error.code, code, error.message);
        assert.match(error.message, message);
        return true;
      });
    }
    assert.deepEqual(platform.trainingJobs.list().map((job) => job.name), before);
  });

  it('a backbone file that is not an ONNX model is refused when the job is created', async () => {
    const bogus = join(dir, 'bogus.onnx');
    await writeFile(bogus, 'not a model');
    const channels = [
      { channelName: 'training', uri: pathToFileURL(images).href, s3DataType: 'S3Prefix' },
      { channelName: 'backbone', uri: pathToFileURL(bogus).href, s3DataType: 'S3Prefix' },
    ];
    await assert.rejects(
      platform.trainingJobs.create(imageClassifierJob('bogus', images, { channels })),
      (error: unknown) => error instanceof DomainError && error.code === 'ValidationError',
    );
    const digest = createHash('sha256').update('not a model').digest('hex');
    assert.equal(await platform.deps.artifacts.has(digest), false, 'a refused file is not copied into the artifact store');
  });

  it('a job whose data turns out unusable fails with a ClientError reason instead of hanging', async () => {
    const broken = join(dir, 'broken');
    await mkdir(join(broken, 'train', '001.Only'), { recursive: true });
    await platform.trainingJobs.create(imageClassifierJob('broken-job', broken));
    const job = await waitForTrainingJob(platform, 'broken-job');
    assert.equal(job.status, 'Failed');
    assert.equal(job.secondaryStatus, 'Failed');
    assert.match(job.failureReason ?? '', /^ClientError: The input data in .*broken is not usable: .*valid\/ is missing/);
  });

  it('a job stopped before its first epoch ends Stopped without a model, and cannot be stopped twice', async () => {
    await platform.trainingJobs.create(imageClassifierJob('stopped', images, { hyperParameters: { epochs: 200 } }));
    const stopping = platform.trainingJobs.stop('stopped');
    assert.equal(stopping.status, 'Stopping');
    assert.equal(stopping.secondaryStatus, 'Stopping');
    const job = await waitForTrainingJob(platform, 'stopped');
    assert.equal(job.status, 'Stopped');
    assert.equal(job.secondaryStatus, 'Stopped');
    // The stop is recorded before the run reaches its first check, so no epoch runs.
    assert.deepEqual(job.epochs, []);
    assert.equal(job.modelArtifactsUri, undefined);
    assert.throws(
      () => platform.trainingJobs.stop('stopped'),
      (error: unknown) => error instanceof DomainError && error.code === 'Conflict' && /in status Stopped/.test(error.message),
    );
  });

  it('a job past MaxRuntimeInSeconds ends Stopped with MaxRuntimeExceeded, keeping the model of the epochs it finished', async () => {
    await platform.trainingJobs.create(imageClassifierJob('slow', images, { hyperParameters: { epochs: 10_000 }, maxRuntimeSeconds: 60 }));
    while (platform.trainingJobs.describe('slow').epochs.length === 0) await new Promise((done) => setTimeout(done, 20));
    await platform.controller.step();
    assert.equal(platform.trainingJobs.describe('slow').status, 'InProgress', 'within its runtime the job runs on');
    clock.ms += 60_000;
    await platform.controller.step();
    const job = await waitForTrainingJob(platform, 'slow');
    assert.equal(job.status, 'Stopped');
    assert.equal(job.secondaryStatus, 'MaxRuntimeExceeded');
    assert.ok(job.epochs.length >= 1 && job.epochs.length < 10_000);
    assert.ok(job.modelArtifactsUri, 'the model trained so far was written');
    assert.match(job.secondaryStatusTransitions.at(-1)!.message, /MaxRuntimeInSeconds.*saved/);
  });

  it('a run that does not stop within the grace period is abandoned: the job ends, and the run records nothing more', async () => {
    await platform.trainingJobs.create(imageClassifierJob('stubborn', images, { hyperParameters: { epochs: 10_000 } }));
    while (platform.trainingJobs.describe('stubborn').epochs.length === 0) await new Promise((done) => setTimeout(done, 20));
    platform.trainingJobs.stop('stubborn');
    // As if the run had not reached a check in two minutes: the controller stops waiting for it.
    clock.ms += STOP_GRACE_SECONDS * 1000;
    await platform.controller.step();
    const abandoned = platform.trainingJobs.describe('stubborn');
    assert.deepEqual([abandoned.status, abandoned.secondaryStatus], ['Stopped', 'Stopped']);
    assert.match(abandoned.secondaryStatusTransitions.at(-1)!.message, /did not stop within 120 s/);
    // The run itself ends at its next check, and must not overwrite what was recorded.
    await new Promise((done) => setTimeout(done, 500));
    assert.deepEqual(platform.trainingJobs.describe('stubborn'), abandoned);
  });

  it('shutting down aborts runs without ending their jobs; the restart runs them again, counting the earlier run', async () => {
    const store = createMemoryStore();
    const first = createPlatform(testControlDeps(dir, store, { clock }));
    await first.trainingJobs.create(imageClassifierJob('resumed', images, { hyperParameters: { epochs: 10_000 } }));
    while (first.trainingJobs.describe('resumed').epochs.length < 2) await new Promise((done) => setTimeout(done, 20));
    clock.ms += 5_000;
    await first.controller.stop();
    const atShutdown = store.trainingJobs.get('resumed')!;
    assert.equal(atShutdown.status, 'InProgress', 'an aborted run records no end');
    await new Promise((done) => setTimeout(done, 300));
    assert.equal(store.trainingJobs.get('resumed')!.epochs.length, atShutdown.epochs.length, 'the aborted run wrote nothing more');

    const restarted = createPlatform(testControlDeps(dir, store, { clock }));
    try {
      await restarted.controller.step();
      while (restarted.trainingJobs.describe('resumed').epochs.length === 0) await new Promise((done) => setTimeout(done, 20));
      const job = restarted.trainingJobs.describe('resumed');
      assert.ok(job.secondaryStatusTransitions.some((transition) => transition.status === 'Restarting'));
      assert.equal(job.priorRunMs, atShutdown.lastModifiedAtMs - atShutdown.startedAtMs!, 'the first run counts toward MaxRuntimeInSeconds');
      const resumedAt = Number(/from the checkpoint after epoch (\d+) of 10000/.exec(job.secondaryStatusTransitions.at(-1)!.message)?.[1]);
      assert.ok(resumedAt >= 1, `resumed from a checkpoint: ${job.secondaryStatusTransitions.at(-1)!.message}`);
      assert.deepEqual(job.epochs.slice(0, resumedAt).map((epoch) => epoch.epoch), Array.from({ length: resumedAt }, (_, i) => i + 1), 'the epochs before the checkpoint are kept');
      assert.equal(job.epochs[resumedAt]?.epoch ?? resumedAt + 1, resumedAt + 1, 'training goes on with the next epoch');
      restarted.trainingJobs.stop('resumed');
      assert.equal((await waitForTrainingJob(restarted, 'resumed')).status, 'Stopped');
    } finally {
      await restarted.controller.stop();
    }
  });

  it('refuses a job over the concurrency limit with LimitExceeded', async () => {
    const limited = createPlatform(testControlDeps(dir, createMemoryStore(), { limits: { ...DEFAULT_LIMITS, maxConcurrentTrainingJobs: 1 } }));
    try {
      await limited.trainingJobs.create(imageClassifierJob('one', images, { hyperParameters: { epochs: 10_000 } }));
      await assert.rejects(limited.trainingJobs.create(imageClassifierJob('two', images)), (error: unknown) => {
        assert.ok(error instanceof DomainError && error.code === 'LimitExceeded', String(error));
        assert.match(error.message, /limit 'training jobs running at once' is 1 jobs, with current utilization of 1 jobs/);
        return true;
      });
      limited.trainingJobs.stop('one');
      await waitForTrainingJob(limited, 'one');
      await limited.trainingJobs.create(imageClassifierJob('two', images, { hyperParameters: { epochs: 1 } }));
      assert.equal((await waitForTrainingJob(limited, 'two')).status, 'Completed');
    } finally {
      await limited.controller.stop();
    }
  });
});
