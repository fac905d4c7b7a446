import { classifierInstance, onnxServed } from '../testing/serving.ts';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildHeadInferenceModel } from '../runtime/onnx/head-model.ts';
import { assertDomainError, assertRejectsWithDomainError } from '../testing/assert-domain-error.ts';
import { deploySmallClassifier, startTestKennel, type TestKennel } from '../testing/test-kennel.ts';
import type { Platform } from './platform.ts';
import { waitForEndpoint } from './wait.ts';

/**
 * Production variants, weights and updates, under load where it matters: every
 * request of a steady stream is counted, and an update or a dying instance may
 * cost none of them.
 */
describe('endpoint variants and updates', () => {
  let test: TestKennel;
  let platform: Platform;
  let jpeg: Uint8Array;
  const invoke = (name: string, targetVariant?: string) => platform.endpoints.invoke(name, { contentType: 'image/jpeg', body: jpeg, targetVariant });

  before(async () => {
    test = await startTestKennel();
    platform = test.kennel.platform;
    await deploySmallClassifier(test, 'toy');
    const classDir = join(test.home, 'toy-images', 'test', (await readdir(join(test.home, 'toy-images', 'test')))[0]);
    jpeg = await readFile(join(classDir, (await readdir(classDir))[0]));
  });
  after(() => test.close());

  /** Sends requests `concurrency` at a time until `during` settles; every outcome is kept. */
  async function steadyLoad<T>(name: string, during: Promise<T>, concurrency = 3) {
    let done = false;
    const outcomes: { variant?: string; error?: unknown }[] = [];
    const workers = Array.from({ length: concurrency }, async () => {
      while (!done) {
        try {
          outcomes.push({ variant: (await invoke(name)).variantName });
        } catch (error) {
          outcomes.push({ error });
        }
      }
    });
    const result = await during.finally(() => (done = true));
    await Promise.all(workers);
    return { result, outcomes, failures: outcomes.filter((outcome) => outcome.error !== undefined).map((outcome) => String(outcome.error)) };
  }

  it('splits traffic across variants by weight, and TargetVariant picks one', async () => {
    platform.endpointConfigs.create({
      name: 'ab',
      productionVariants: [
        { variantName: 'A', modelName: 'toy', initialVariantWeight: 3 },
        { variantName: 'B', modelName: 'toy', initialVariantWeight: 1 },
      ],
    });
    platform.endpoints.create({ name: 'ab', endpointConfigName: 'ab' });
    await waitForEndpoint(platform, 'ab');
    const answers = await inBatches(200, () => invoke('ab'));
    const toA = answers.filter((answer) => answer.variantName === 'A').length;
    // 3:1 over 200 requests: 150 expected, and outside [115, 185] with odds below one in a billion.
    assert.ok(toA >= 115 && toA <= 185, `variant A got ${toA} of 200 requests`);
    const targeted = await inBatches(20, () => invoke('ab', 'B'));
    assert.deepEqual(new Set(targeted.map((answer) => answer.variantName)), new Set(['B']));
    await assertRejectsWithDomainError(invoke('ab', 'C'), 'ValidationError', {
      message: /TargetVariant C is not a production variant of endpoint ab; its variants are A, B/,
      field: 'TargetVariant',
    });
  });

  it('UpdateEndpointWeightsAndCapacities moves traffic and instances in place', async () => {
    platform.endpoints.updateWeightsAndCapacities('ab', [
      { variantName: 'A', desiredWeight: 0 },
      { variantName: 'B', desiredInstanceCount: 3 },
    ]);
    const updating = platform.endpoints.describe('ab');
    assert.equal(updating.status, 'Updating');
    assertDomainError(() => platform.endpoints.updateWeightsAndCapacities('ab', [{ variantName: 'B', desiredInstanceCount: 1 }]), 'ValidationError', {
      message: /Cannot update in-progress endpoint .* It is Updating/,
    });
    const { failures } = await steadyLoad('ab', waitForEndpoint(platform, 'ab'));
    assert.deepEqual(failures, []);
    assert.equal(platform.instances.count('ab', 'B'), 3);
    assert.equal(platform.instances.count('ab', 'A'), 1);
    const answers = await inBatches(30, () => invoke('ab'));
    assert.deepEqual(new Set(answers.map((answer) => answer.variantName)), new Set(['B']), 'weight 0 takes no traffic');
    assert.equal((await invoke('ab', 'A')).variantName, 'A', 'but TargetVariant still reaches it');

    platform.endpoints.updateWeightsAndCapacities('ab', [{ variantName: 'B', desiredInstanceCount: 1 }]);
    await waitForEndpoint(platform, 'ab');
    assert.equal(platform.instances.count('ab', 'B'), 1);
    assertDomainError(() => platform.endpoints.updateWeightsAndCapacities('ab', [{ variantName: 'Z', desiredWeight: 1 }]), 'ValidationError', {
      message: /"\[Z\]" is\/are not present/,
      field: 'DesiredWeightsAndCapacities[0].VariantName',
    });
    assertDomainError(() => platform.endpoints.updateWeightsAndCapacities('ab', [{ variantName: 'B', desiredInstanceCount: 9 }]), 'LimitExceeded', {
      message: /at most 8 instances per production variant/,
    });
  });

  it('UpdateEndpoint is blue/green: under load no request fails, and traffic moves to the new variants', async () => {
    platform.endpointConfigs.create({ name: 'toy-next', productionVariants: [{ variantName: 'Next', modelName: 'toy', initialInstanceCount: 2 }] });
    const before = platform.instances.list('toy');
    platform.endpoints.update({ name: 'toy', endpointConfigName: 'toy-next' });
    assert.equal(platform.endpoints.describe('toy').status, 'Updating');
    const { outcomes, failures, result } = await steadyLoad('toy', waitForEndpoint(platform, 'toy'));
    assert.deepEqual(failures, [], 'no request failed during the update');
    assert.ok(outcomes.length > 10, `the load ran through the update (${outcomes.length} requests)`);
    assert.equal(result.endpointConfigName, 'toy-next');
    assert.equal(result.pendingDeployment, undefined);
    assert.equal((await invoke('toy')).variantName, 'Next');
    assert.equal(platform.instances.count('toy', 'Next'), 2);
    for (const old of before) await assert.rejects(classifierInstance(old).classify(jpeg, 1), 'the old instances were closed once drained');
  });

  it('an update whose config cannot load rolls back, keeps serving, and records why', async () => {
    const model = onnxServed(platform.deps.store.models.get('toy')!);
    const garbage = await platform.deps.artifacts.put(new TextEncoder().encode('not an ONNX model'));
    platform.deps.store.models.create({ ...model, name: 'broken', artifacts: { ...model.artifacts, headModel: garbage } });
    platform.endpointConfigs.create({ name: 'toy-broken', productionVariants: [{ variantName: 'Broken', modelName: 'broken' }] });
    platform.endpoints.update({ name: 'toy', endpointConfigName: 'toy-broken' });
    const settled = (async () => {
      for (;;) {
        const endpoint = platform.endpoints.describe('toy');
        if (endpoint.status === 'InService') return endpoint;
        platform.controller.kick();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const { failures, result } = await steadyLoad('toy', settled);
    assert.deepEqual(failures, []);
    assert.equal(result.endpointConfigName, 'toy-next', 'still on the config that works');
    assert.match(result.failureReason ?? '', /Updating to endpoint config toy-broken failed, and the endpoint was rolled back to toy-next: could not load the model/);
    assert.equal((await invoke('toy')).variantName, 'Next');
  });

  it("loses no request when one instance's worker is killed under load, and replaces it", async () => {
    const [doomed] = platform.instances.list('toy', 'Next');
    const killed = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await doomed.terminate();
      for (let waited = 0; platform.instances.count('toy', 'Next') < 2 || platform.instances.list('toy').includes(doomed); waited += 20) {
        assert.ok(waited < 60_000, 'the dead instance was not replaced');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const { outcomes, failures } = await steadyLoad('toy', killed, 4);
    assert.deepEqual(failures, [], 'each request in flight on the dead instance was retried on the other');
    assert.ok(outcomes.length > 10);
    assert.equal(platform.endpoints.describe('toy').status, 'InService');
  });

  it('answers a model that fails at run time with ModelError, and keeps the instance serving', async () => {
    const model = onnxServed(platform.deps.store.models.get('toy')!);
    // A head that expects 7 features from a backbone that gives it fewer: it loads, then every run fails.
    const featureSize = 7;
    const head = buildHeadInferenceModel({
      featureSize,
      hiddenUnits: 2,
      classCount: 4,
      w1: new Float32Array(2 * featureSize),
      b1: new Float32Array(2),
      w2: new Float32Array(4 * 2),
      b2: new Float32Array(4),
    });
    platform.deps.store.models.create({ ...model, name: 'mismatched', artifacts: { ...model.artifacts, headModel: await platform.deps.artifacts.put(head) } });
    platform.endpointConfigs.create({ name: 'mismatched', productionVariants: [{ variantName: 'AllTraffic', modelName: 'mismatched' }] });
    platform.endpoints.create({ name: 'mismatched', endpointConfigName: 'mismatched' });
    await waitForEndpoint(platform, 'mismatched');
    const [instance] = platform.instances.list('mismatched');
    for (let i = 0; i < 2; i++) {
      await assertRejectsWithDomainError(invoke('mismatched'), 'ModelError', { message: /^The model failed on this input: / });
    }
    assert.equal(instance.alive, true, 'a failing request does not take the instance down');
    assert.equal(platform.endpoints.describe('mismatched').status, 'InService');
    platform.endpoints.delete('mismatched');
  });

  it('counts invocations, errors, latencies, instances and queues on /metrics', async () => {
    const scrape = async () => {
      const response = await fetch(`${test.url}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return response.text();
    };
    const sample = (text: string, metric: string, labels: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${metric}{${labels}}`));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    const labels = 'endpoint="toy",variant="Next"';
    const before = await scrape();
    await inBatches(5, () => invoke('toy'));
    await assertRejectsWithDomainError(platform.endpoints.invoke('toy', { contentType: 'text/plain', body: jpeg }), 'UnsupportedMediaType');
    const after = await scrape();
    assert.equal(sample(after, 'kennel_endpoint_invocations_total', labels) - sample(before, 'kennel_endpoint_invocations_total', labels), 6);
    assert.equal(sample(after, 'kennel_endpoint_model_latency_seconds_count', labels) - sample(before, 'kennel_endpoint_model_latency_seconds_count', labels), 5);
    assert.equal(sample(after, 'kennel_endpoint_overhead_latency_seconds_count', labels) - sample(before, 'kennel_endpoint_overhead_latency_seconds_count', labels), 5);
    assert.equal(sample(after, 'kennel_endpoint_invocation_errors_total', `${labels},code="UnsupportedMediaType"`), 1);
    assert.equal(sample(after, 'kennel_endpoint_instances', labels), 2);
    assert.equal(sample(after, 'kennel_endpoint_queue_depth', labels), 0);
    assert.ok(sample(after, 'kennel_endpoint_model_latency_seconds_sum', labels) > 0);
  });

  it('refuses updates of an endpoint that is not InService, and of missing configs', async () => {
    assertDomainError(() => platform.endpoints.update({ name: 'toy', endpointConfigName: 'no-such-config' }), 'NotFound', {
      message: /Could not find endpoint configuration/,
    });
    platform.endpoints.update({ name: 'ab', endpointConfigName: 'toy-next' });
    assertDomainError(() => platform.endpoints.update({ name: 'ab', endpointConfigName: 'toy-next' }), 'ValidationError', {
      message: /Cannot update in-progress endpoint/,
    });
    await waitForEndpoint(platform, 'ab');
  });
});

/** `count` calls, ten at a time: within what one instance queues. */
async function inBatches<T>(count: number, call: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  while (results.length < count) results.push(...(await Promise.all(Array.from({ length: Math.min(10, count - results.length) }, call))));
  return results;
}
