import { classified } from '../testing/serving.ts';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../core/errors.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';
import type { TrainingJob } from '../domain/training/training-job.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import type { Store } from '../store/store.ts';
import { testControlDeps } from '../testing/control-deps.ts';
import { imageClassifierJob, makeSmallDataset } from '../testing/test-kennel.ts';
import { createPlatform, type Platform } from './platform.ts';
import { waitForEndpoint, waitForEndpointDeleted, waitForTrainingJob } from './wait.ts';

describe('endpoint lifecycle', () => {
  let dir: string;
  let store: Store;
  let image: Uint8Array;
  const platforms: Platform[] = [];

  /** A control plane over the shared store and artifacts; a second one stands for a restarted server. */
  let job: TrainingJob;
  const boot = () => {
    const platform = createPlatform(testControlDeps(dir, store));
    platforms.push(platform);
    return platform;
  };
  const createModel = (platform: Platform, name: string) =>
    platform.models.create({ name, executionRoleArn: KENNEL_EXECUTION_ROLE_ARN, image: IMAGE_CLASSIFIER_IMAGE, modelDataUrl: job.modelArtifactsUri });

  const gone = async (platform: Platform, name: string) => {
    await waitForEndpointDeleted(platform, name);
    return platform.deps.store.endpoints.get(name) === undefined;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-endpoints-'));
    store = createMemoryStore();
    const platform = boot();
    await makeSmallDataset(join(dir, 'images'));
    await platform.trainingJobs.create(imageClassifierJob('job', join(dir, 'images'), { hyperParameters: { epochs: 2 } }));
    job = await waitForTrainingJob(platform, 'job');
    assert.equal(job.status, 'Completed');
    await createModel(platform, 'model');
    platform.endpointConfigs.create({ name: 'config', productionVariants: [{ variantName: 'AllTraffic', modelName: 'model' }] });
    const classDir = join(dir, 'images', 'test', (await readdir(join(dir, 'images', 'test')))[0]);
    image = await readFile(join(classDir, (await readdir(classDir))[0]));
  });
  after(async () => {
    for (const platform of platforms) await platform.controller.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an endpoint deleted while it is still Creating stays deleted', async () => {
    const platform = platforms[0];
    platform.endpoints.create({ name: 'short-lived', endpointConfigName: 'config' });
    platform.endpoints.delete('short-lived');
    assert.ok(await gone(platform, 'short-lived'));
    await platform.controller.step();
    assert.equal(platform.deps.store.endpoints.get('short-lived'), undefined);
  });

  it('takes endpoint names case-insensitively when creating, as SageMaker does', () => {
    const platform = platforms[0];
    platform.endpoints.create({ name: 'Pets', endpointConfigName: 'config' });
    assert.throws(
      () => platform.endpoints.create({ name: 'pets', endpointConfigName: 'config' }),
      (error: unknown) => error instanceof DomainError && error.code === 'AlreadyExists' && /existing endpoint ".*endpoint\/Pets"/.test(error.message),
    );
    platform.endpoints.delete('Pets');
  });

  it('keeps serving, also after a restart, when its model and endpoint config are deleted', async () => {
    const platform = platforms[0];
    await createModel(platform, 'model-2');
    platform.endpointConfigs.create({ name: 'config-2', productionVariants: [{ variantName: 'AllTraffic', modelName: 'model-2' }] });
    platform.endpoints.create({ name: 'keep', endpointConfigName: 'config-2' });
    await waitForEndpoint(platform, 'keep');
    platform.endpointConfigs.delete('config-2');
    platform.models.delete('model-2');
    const before = await platform.endpoints.invoke('keep', { contentType: 'image/jpeg', body: image });

    await platform.controller.stop();
    const restarted = boot();
    // As startKennel does: the first pass runs before anything else reads the endpoint.
    await restarted.controller.step();
    assert.equal(restarted.endpoints.describe('keep').status, 'SystemUpdating', 'not serving until its model is loaded');
    assert.equal((await waitForEndpoint(restarted, 'keep')).status, 'InService');
    const after = await restarted.endpoints.invoke('keep', { contentType: 'image/jpeg', body: image });
    assert.deepEqual(classified(after).predictions, classified(before).predictions);
  });

  it('requests in flight during a delete finish; later ones get a clean error, never a disposed session', async () => {
    const platform = platforms.at(-1)!;
    platform.endpoints.create({ name: 'busy', endpointConfigName: 'config' });
    await waitForEndpoint(platform, 'busy');
    // invoke() borrows the replica before its first await: all twelve are in flight when the delete comes.
    let settled = 0;
    const calls = Array.from({ length: 12 }, () =>
      platform.endpoints.invoke('busy', { contentType: 'image/jpeg', body: image }).finally(() => settled++),
    );
    platform.endpoints.delete('busy');
    await assert.rejects(
      platform.endpoints.invoke('busy', { contentType: 'image/jpeg', body: image }),
      (error: unknown) => error instanceof DomainError && error.code === 'ServiceUnavailable' && /Deleting/.test(error.message),
    );
    assert.ok(await gone(platform, 'busy'));
    assert.equal(settled, 12, 'the replica closed only after every request in flight was done');
    for (const outcome of await Promise.allSettled(calls)) {
      assert.equal(outcome.status, 'fulfilled', outcome.status === 'rejected' ? String(outcome.reason) : '');
      if (outcome.status === 'fulfilled') assert.equal(classified(outcome.value).predictions.length, 4);
    }
    await assert.rejects(
      platform.endpoints.invoke('busy', { contentType: 'image/jpeg', body: image }),
      (error: unknown) => error instanceof DomainError && error.code === 'NotFound',
    );
  });

  it('a Failed endpoint answers ValidationError with its reason; a Creating one ServiceUnavailable', async () => {
    const platform = platforms.at(-1)!;
    store.endpoints.create({
      name: 'broken',
      endpointConfigName: 'config',
      productionVariants: [],
      status: 'Failed',
      failureReason: 'Could not load the model: test',
      tags: [],
      createdAtMs: 0,
      lastModifiedAtMs: 0,
    });
    await assert.rejects(
      platform.endpoints.invoke('broken', { contentType: 'image/jpeg', body: image }),
      (error: unknown) => error instanceof DomainError && error.code === 'ValidationError' && /Failed: Could not load/.test(error.message),
    );
    platform.endpoints.create({ name: 'starting', endpointConfigName: 'config' });
    await assert.rejects(
      platform.endpoints.invoke('starting', { contentType: 'image/jpeg', body: image }),
      (error: unknown) => error instanceof DomainError && error.code === 'ServiceUnavailable',
    );
  });
});
