import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { DEFAULT_URL_FETCH_POLICY } from '../domain/serving/url-policy.ts';
import { createArtifactStore } from '../store/artifacts.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { makeSmallDataset } from '../testing/test-kennel.ts';
import { PlatformEvents } from './events.ts';
import { createPlatform, type Platform } from './platform.ts';
import { waitForTrainingJob } from './wait.ts';

describe('training jobs through the control plane', () => {
  let dir: string;
  let platform: Platform;
  let clock = 1_700_000_000_000;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-control-'));
    platform = createPlatform({
      store: createMemoryStore(),
      artifacts: createArtifactStore(join(dir, 'artifacts')),
      clock: { now: () => clock++ },
      logger: silentLogger,
      events: new PlatformEvents(),
      urlFetchPolicy: DEFAULT_URL_FETCH_POLICY,
      servingThreads: 1,
    });
    await makeSmallDataset(join(dir, 'images'));
    await platform.datasets.register({ name: 'toy', path: join(dir, 'images') });
  });
  after(async () => {
    await platform.controller.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const train = async (name: string, hyperParameters: Record<string, string | number> = { epochs: 3 }) => {
    await platform.trainingJobs.create({ name, datasetName: 'toy', backbone: { sample: true }, hyperParameters });
    return waitForTrainingJob(platform, name);
  };

  it('runs every epoch, records true-mean metrics, and stores model, labels and metrics artifacts', async () => {
    const job = await train('first', { epochs: 4, batch_size: 5, learning_rate: 0.003 });
    assert.equal(job.status, 'Completed', job.failureReason);
    assert.deepEqual(job.epochs.map((epoch) => epoch.epoch), [1, 2, 3, 4]);
    for (const epoch of job.epochs) {
      // 16 validation images: every accuracy is a multiple of 1/16, never floored to 0 or 1.
      assert.equal(Math.round(epoch.validationAccuracy * 16), epoch.validationAccuracy * 16);
      assert.ok(epoch.trainLoss > 0 && Number.isFinite(epoch.trainLoss));
    }
    assert.ok(job.epochs[3].trainLoss < job.epochs[0].trainLoss, 'training loss falls');
    assert.ok(job.finalMetrics && job.finalMetrics.testAccuracy >= 0 && job.finalMetrics.testAccuracy <= 1);
    const labels = JSON.parse(new TextDecoder().decode(await platform.deps.artifacts.get(job.artifacts!.labels)));
    assert.equal(labels.classes.length, 4);
    const metrics = JSON.parse(new TextDecoder().decode(await platform.deps.artifacts.get(job.artifacts!.metrics)));
    assert.equal(metrics.epochs.length, 4);
  });

  it('a second job on the same images and backbone runs no backbone forward pass', async () => {
    const job = await train('second');
    assert.equal(job.status, 'Completed', job.failureReason);
    assert.deepEqual(job.embeddingStats, { computed: 0, cached: 80 });
  });

  it('refuses bad requests with errors that name the problem, and records nothing', async () => {
    const cases: [Parameters<Platform['trainingJobs']['create']>[0], string, RegExp][] = [
      [{ name: 'x', datasetName: 'missing', backbone: { sample: true } }, 'NotFound', /Dataset missing/],
      [{ name: 'x', datasetName: 'toy', backbone: { sample: true }, hyperParameters: { learning_rate: -1 } }, 'ValidationError', /learning_rate/],
      [{ name: 'x', datasetName: 'toy', backbone: { sample: true }, hyperParameters: { batch_size: 'lots' } }, 'ValidationError', /batch_size/],
      [{ name: 'x', datasetName: 'toy', backbone: { path: join(dir, 'nope.onnx') } }, 'ValidationError', /nope\.onnx/],
      [{ name: 'bad name!', datasetName: 'toy', backbone: { sample: true } }, 'ValidationError', /name/],
      [{ name: 'first', datasetName: 'toy', backbone: { sample: true } }, 'AlreadyExists', /first/],
    ];
    for (const [input, code, message] of cases) {
      await assert.rejects(platform.trainingJobs.create(input), (error: unknown) => {
        assert.ok(error instanceof DomainError, String(error));
        assert.equal(error.code, code, error.message);
        assert.match(error.message, message);
        return true;
      });
    }
    assert.deepEqual(platform.trainingJobs.list().map((job) => job.name).sort(), ['first', 'second']);
  });

  it('a backbone file that is not an ONNX model is refused when the job is created', async () => {
    const bogus = join(dir, 'bogus.onnx');
    await (await import('node:fs/promises')).writeFile(bogus, 'not a model');
    await assert.rejects(
      platform.trainingJobs.create({ name: 'bogus', datasetName: 'toy', backbone: { path: bogus } }),
      (error: unknown) => error instanceof DomainError && error.code === 'ValidationError',
    );
    const digest = createHash('sha256').update('not a model').digest('hex');
    assert.equal(await platform.deps.artifacts.has(digest), false, 'a refused file is not copied into the artifact store');
  });

  it('a job whose dataset folder vanished fails with a reason instead of hanging', async () => {
    await makeSmallDataset(join(dir, 'doomed'), 5);
    await platform.datasets.register({ name: 'doomed', path: join(dir, 'doomed') });
    await rm(join(dir, 'doomed'), { recursive: true });
    await platform.trainingJobs.create({ name: 'doomed-job', datasetName: 'doomed', backbone: { sample: true } });
    const job = await waitForTrainingJob(platform, 'doomed-job');
    assert.equal(job.status, 'Failed');
    assert.match(job.failureReason ?? '', /doomed/);
  });

  it('a stopped job ends Stopped and cannot be stopped twice', async () => {
    await platform.trainingJobs.create({ name: 'stopped', datasetName: 'toy', backbone: { sample: true }, hyperParameters: { epochs: 200 } });
    platform.trainingJobs.stop('stopped');
    const job = await waitForTrainingJob(platform, 'stopped');
    assert.equal(job.status, 'Stopped');
    assert.ok(job.epochs.length < 200);
    assert.throws(() => platform.trainingJobs.stop('stopped'), (error: unknown) => error instanceof DomainError && error.code === 'Conflict');
  });
});
