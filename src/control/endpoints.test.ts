import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { DEFAULT_URL_FETCH_POLICY } from '../domain/serving/url-policy.ts';
import { createArtifactStore } from '../store/artifacts.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import type { Store } from '../store/store.ts';
import { makeSmallDataset } from '../testing/test-kennel.ts';
import { PlatformEvents } from './events.ts';
import { createPlatform, type Platform } from './platform.ts';
import { waitForEndpoint, waitForTrainingJob } from './wait.ts';

describe('endpoint lifecycle', () => {
  let dir: string;
  let store: Store;
  let image: Uint8Array;
  const platforms: Platform[] = [];

  /** A control plane over the shared store and artifacts; a second one stands for a restarted server. */
  const boot = () => {
    const platform = createPlatform({
      store,
      artifacts: createArtifactStore(join(dir, 'artifacts')),
      clock: { now: () => Date.now() },
      logger: silentLogger,
      events: new PlatformEvents(),
      urlFetchPolicy: DEFAULT_URL_FETCH_POLICY,
      servingThreads: 1,
    });
    platforms.push(platform);
    return platform;
  };

  const gone = async (platform: Platform, name: string) => {
    for (let i = 0; i < 100 && platform.deps.store.endpoints.get(name); i++) {
      await platform.controller.step();
    }
    return platform.deps.store.endpoints.get(name) === undefined;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-endpoints-'));
    store = createMemoryStore();
    const platform = boot();
    await makeSmallDataset(join(dir, 'images'));
    await platform.datasets.register({ name: 'toy', path: join(dir, 'images') });
    await platform.trainingJobs.create({ name: 'job', datasetName: 'toy', backbone: { sample: true }, hyperParameters: { epochs: 2 } });
    assert.equal((await waitForTrainingJob(platform, 'job')).status, 'Completed');
    platform.models.create({ name: 'model', trainingJobName: 'job' });
    platform.endpointConfigs.create({ name: 'config', productionVariants: [{ modelName: 'model' }] });
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

  it('keeps serving, also after a restart, when its model and endpoint config are deleted', async () => {
    const platform = platforms[0];
    platform.models.create({ name: 'model-2', trainingJobName: 'job' });
    platform.endpointConfigs.create({ name: 'config-2', productionVariants: [{ modelName: 'model-2' }] });
    platform.endpoints.create({ name: 'keep', endpointConfigName: 'config-2' });
    await waitForEndpoint(platform, 'keep');
    platform.endpointConfigs.delete('config-2');
    platform.models.delete('model-2');
    const before = await platform.endpoints.invoke('keep', { contentType: 'image/jpeg', body: image });

    await platform.controller.stop();
    const restarted = boot();
    await restarted.controller.step();
    assert.equal(restarted.endpoints.describe('keep').status, 'InService');
    const after = await restarted.endpoints.invoke('keep', { contentType: 'image/jpeg', body: image });
    assert.deepEqual(after.body.predictions, before.body.predictions);
  });

  it('requests in flight during a delete finish or get a clean error, never a disposed session', async () => {
    const platform = platforms.at(-1)!;
    platform.endpoints.create({ name: 'busy', endpointConfigName: 'config' });
    await waitForEndpoint(platform, 'busy');
    const calls = Array.from({ length: 12 }, () => platform.endpoints.invoke('busy', { contentType: 'image/jpeg', body: image }));
    platform.endpoints.delete('busy');
    const deleting = gone(platform, 'busy');
    const outcomes = await Promise.allSettled(calls);
    assert.ok(await deleting);
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') continue;
      const error = outcome.reason as unknown;
      assert.ok(error instanceof DomainError, String(error));
      assert.ok(['ServiceUnavailable', 'NotFound'].includes(error.code), `${error.code}: ${error.message}`);
    }
    assert.ok(outcomes.some((outcome) => outcome.status === 'fulfilled'), 'requests admitted before the delete complete');
  });

  it('a Failed endpoint answers ValidationError with its reason; a Creating one ServiceUnavailable', async () => {
    const platform = platforms.at(-1)!;
    store.endpoints.create({
      name: 'broken',
      endpointConfigName: 'config',
      productionVariants: [],
      status: 'Failed',
      failureReason: 'Could not load the model: test',
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
