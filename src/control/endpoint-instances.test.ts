import { classified } from '../testing/serving.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '../core/errors.ts';
import { deploySlowClassifier, startTestKennel, type TestKennel } from '../testing/test-kennel.ts';
import { waitForEndpoint } from './wait.ts';

/**
 * Each endpoint instance runs its model in a worker thread of its own. With a
 * backbone that takes a third of a second per image, an endpoint with requests
 * queued must leave the server free: /ping and control calls answer while the
 * first invocation is still running. And a worker that dies refuses its
 * requests cleanly and is replaced.
 */
describe('endpoint instances', () => {
  let test: TestKennel;
  let jpeg: Uint8Array;
  before(async () => {
    test = await startTestKennel({ limits: { maxRequestsPerInstance: 4 } });
    jpeg = await deploySlowClassifier(test, 'slow');
  });
  after(() => test.close());

  it('answers /ping and control calls while the endpoint is saturated', async () => {
    const { platform } = test.kennel;
    const order: string[] = [];
    const invocations = Array.from({ length: 4 }, (_, index) =>
      platform.endpoints.invoke('slow', { contentType: 'image/jpeg', body: jpeg }).then((answer) => {
        order.push(`invocation ${index}`);
        return answer;
      }),
    );
    // By now the first invocation is inside its inference (0.1 to 0.3 s, by the machine): its image decodes in milliseconds.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const ping = await fetch(`${test.url}/ping`);
    order.push('ping');
    assert.equal(ping.status, 200);
    assert.equal(platform.endpoints.describe('slow').status, 'InService');
    order.push('describe');
    const answers = await Promise.all(invocations);
    assert.deepEqual(order.slice(0, 2), ['ping', 'describe'], `answered before the first invocation finished: ${order.join(', ')}`);
    for (const answer of answers) assert.equal(classified(answer).predictions.length, 2);
  });

  it('refuses what its instances cannot hold with ServiceUnavailable at once, and serves the rest', async () => {
    const { platform } = test.kennel;
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => platform.endpoints.invoke('slow', { contentType: 'image/jpeg', body: jpeg })));
    const refused = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    assert.equal(refused.length, 2, 'one instance holds 4 requests; the other 2 are refused');
    for (const error of refused) {
      assert.ok(isDomainError(error) && error.code === 'ServiceUnavailable', String(error));
      assert.match(error.message, /at capacity: each of its 1 instance holds 4 requests/);
    }
    for (const result of results) if (result.status === 'fulfilled') assert.equal(classified(result.value).predictions.length, 2);
  });

  it('refuses the requests of an instance whose worker dies with ServiceUnavailable, then serves from a new instance', async () => {
    const { platform } = test.kennel;
    const inFlight = Array.from({ length: 3 }, () => platform.endpoints.invoke('slow', { contentType: 'image/jpeg', body: jpeg }));
    const settled = Promise.allSettled(inFlight);
    // What `kill` does to a worker thread: it ends at once, mid-inference.
    await platform.instances.list('slow')[0].terminate();
    const results = await settled;
    const refused = results.filter((result) => result.status === 'rejected');
    assert.ok(refused.length >= 1, 'the requests on the dead instance were refused');
    for (const result of refused) {
      const error = (result as PromiseRejectedResult).reason;
      assert.ok(isDomainError(error) && error.code === 'ServiceUnavailable', String(error));
      assert.match(error.message, /stopped \(its worker was stopped\)/);
    }
    await waitForEndpoint(platform, 'slow');
    const answer = await retryWhileUnavailable(() => platform.endpoints.invoke('slow', { contentType: 'image/jpeg', body: jpeg }));
    assert.equal(classified(answer).predictions.length, 2);
    assert.equal(platform.endpoints.describe('slow').status, 'InService', 'the endpoint stayed InService while its instance was replaced');
  });
  it('batches requests that arrive together into one run of the model, when the variant asks for it', async () => {
    const { platform } = test.kennel;
    platform.endpointConfigs.create({
      name: 'slow-batched',
      productionVariants: [{ variantName: 'AllTraffic', modelName: 'slow', batching: { maxBatchSize: 4, maxDelayMs: 100 } }],
    });
    platform.endpoints.create({ name: 'slow-batched', endpointConfigName: 'slow-batched' });
    await waitForEndpoint(platform, 'slow-batched');
    const invoke = () => platform.endpoints.invoke('slow-batched', { contentType: 'image/jpeg', body: jpeg });
    await invoke();
    const alone = performance.now();
    await invoke();
    // A lone request waits out the 100 ms delay, then runs alone: the cost of one run.
    const oneRunMs = performance.now() - alone;
    const start = performance.now();
    const finished: number[] = [];
    const answers = await Promise.all(Array.from({ length: 4 }, () => invoke().then((answer) => (finished.push(performance.now() - start), answer))));
    for (const answer of answers) assert.equal(classified(answer).predictions.length, 2);
    // This backbone costs the same for a batch as for one image; run one at a time, four would take four runs.
    assert.ok(Math.max(...finished) < 2 * oneRunMs, `four requests took ${Math.max(...finished).toFixed(0)} ms, one run ${oneRunMs.toFixed(0)} ms`);
    assert.ok(Math.max(...finished) - Math.min(...finished) < oneRunMs / 2, `they were answered together: ${finished.map((ms) => ms.toFixed(0)).join(', ')} ms`);
  });

  it('sends the requests of an instance that dies once to another instance, and brings the count back', async () => {
    const { platform } = test.kennel;
    platform.endpointConfigs.create({ name: 'slow-two', productionVariants: [{ variantName: 'AllTraffic', modelName: 'slow', initialInstanceCount: 2 }] });
    platform.endpoints.create({ name: 'slow-two', endpointConfigName: 'slow-two' });
    await waitForEndpoint(platform, 'slow-two');
    assert.equal(platform.instances.count('slow-two'), 2);
    const [doomed, survivor] = platform.instances.list('slow-two');
    const inFlight = Array.from({ length: 4 }, () => platform.endpoints.invoke('slow-two', { contentType: 'image/jpeg', body: jpeg }));
    // Least outstanding requests: the four are spread two and two, so the doomed instance holds some.
    await doomed.terminate();
    const answers = await Promise.all(inFlight);
    for (const answer of answers) assert.equal(classified(answer).predictions.length, 2, 'every request was answered, by the survivor if need be');
    assert.equal(doomed.alive, false);
    assert.equal(survivor.alive, true);
    for (let waited = 0; platform.instances.count('slow-two') < 2; waited += 20) {
      assert.ok(waited < 60_000, 'the dead instance was not replaced');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(platform.endpoints.describe('slow-two').status, 'InService');
  });
});

async function retryWhileUnavailable<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'ServiceUnavailable') || attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
