import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Instance } from '../runtime/serving/instance-types.ts';
import { instanceThreads } from './endpoint-reconciler.ts';
import { InstanceRegistry, type InstanceLease } from './instances.ts';

function fakeInstance(name: string, log: string[] = [], variantName = 'AllTraffic'): Instance {
  return {
    kind: 'classifier',
    modelName: name,
    variantName,
    classCount: 2,
    alive: true,
    classify: async () => ({ predictions: [], modelLatencyMs: 1, computeMs: 1 }),
    ping: async () => {},
    onExit: () => {},
    terminate: async () => {},
    close: async () => void log.push(`closed ${name}`),
  };
}

function lend(registry: InstanceRegistry, options: { except?: Instance; limit?: number } = {}): InstanceLease {
  const lease = registry.acquire('ep', 'AllTraffic', options);
  assert.ok(lease && lease !== 'full', `no lease: ${String(lease)}`);
  return lease;
}

describe('InstanceRegistry', () => {
  it('lends the instance with the fewest requests in flight, the first on a tie', () => {
    const registry = new InstanceRegistry();
    const [a, b, c] = ['a', 'b', 'c'].map((name) => fakeInstance(name));
    for (const instance of [a, b, c]) registry.add('ep', 'AllTraffic', instance);
    const leases = Array.from({ length: 5 }, () => lend(registry));
    assert.deepEqual(leases.map((lease) => lease.instance.modelName), ['a', 'b', 'c', 'a', 'b']);
    leases[2].release();
    leases[2].release(); // a second release changes nothing
    assert.equal(lend(registry).instance.modelName, 'c');
    assert.equal(lend(registry).instance.modelName, 'c');
    assert.equal(lend(registry, { except: c }).instance.modelName, 'a', 'except leaves an instance out');
  });

  it("is full when every instance holds the limit, and lends again once one finishes", () => {
    const registry = new InstanceRegistry();
    registry.add('ep', 'AllTraffic', fakeInstance('a'));
    registry.add('ep', 'AllTraffic', fakeInstance('b'));
    const leases = [lend(registry, { limit: 2 }), lend(registry, { limit: 2 }), lend(registry, { limit: 2 }), lend(registry, { limit: 2 })];
    assert.equal(registry.acquire('ep', 'AllTraffic', { limit: 2 }), 'full');
    leases[1].release();
    assert.equal(lend(registry, { limit: 2 }).instance.modelName, 'b');
  });

  it('forgets a dead instance without closing it, and only once', () => {
    const log: string[] = [];
    const registry = new InstanceRegistry();
    const [a, b] = ['a', 'b'].map((name) => fakeInstance(name, log));
    registry.add('ep', 'AllTraffic', a);
    registry.add('ep', 'AllTraffic', b);
    assert.equal(registry.discard('ep', a), true);
    assert.equal(registry.discard('ep', a), false);
    assert.deepEqual(registry.list('ep'), [b]);
    assert.equal(registry.discard('ep', b), true);
    assert.equal(registry.has('ep'), true, 'an endpoint whose instances all died is still deployed here: it is repaired, not reloaded');
    assert.deepEqual(registry.observed('ep'), new Map([['AllTraffic', 0]]));
    assert.equal(registry.acquire('ep', 'AllTraffic'), undefined);
    assert.deepEqual(log, []);
  });

  it('lends only instances of the variant asked for', () => {
    const registry = new InstanceRegistry();
    registry.add('ep', 'A', fakeInstance('a', [], 'A'));
    registry.add('ep', 'B', fakeInstance('b', [], 'B'));
    const lease = registry.acquire('ep', 'B');
    assert.ok(lease && lease !== 'full');
    assert.equal(lease.instance.modelName, 'b');
    assert.equal(registry.acquire('ep', 'C'), undefined);
    assert.deepEqual(registry.observed('ep'), new Map([['A', 1], ['B', 1]]));
    assert.equal(registry.inFlight('ep', 'B'), 1);
  });

  it('shrinks a variant by its least busy instances, closing each once its requests are done', async () => {
    const log: string[] = [];
    const registry = new InstanceRegistry();
    for (const name of ['a', 'b', 'c']) registry.add('ep', 'AllTraffic', fakeInstance(name, log));
    const busy = [lend(registry), lend(registry)];
    assert.deepEqual(busy.map((lease) => lease.instance.modelName), ['a', 'b']);
    const shrinking = registry.shrink('ep', 'AllTraffic', 2);
    assert.equal(registry.count('ep'), 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['closed c'], 'the idle instance goes first and at once');
    for (const lease of busy) lease.release();
    await shrinking;
    assert.equal(log.length, 2);
    assert.equal(registry.count('ep'), 1);
  });

  it('replaces a deployment in one step: new requests go to the new instances, the old ones drain', async () => {
    const log: string[] = [];
    const registry = new InstanceRegistry();
    registry.add('ep', 'AllTraffic', fakeInstance('blue', log));
    const old = lend(registry);
    const switching = registry.replace('ep', new Map([['AllTraffic', [fakeInstance('green', log)]]]));
    assert.equal(lend(registry).instance.modelName, 'green');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, [], 'blue still answers the request it holds');
    old.release();
    await switching;
    assert.deepEqual(log, ['closed blue']);
  });

  it('closes each instance of a removed endpoint once its requests in flight are done', async () => {
    const log: string[] = [];
    const registry = new InstanceRegistry();
    registry.add('ep', 'AllTraffic', fakeInstance('a', log));
    registry.add('ep', 'AllTraffic', fakeInstance('b', log));
    const lease = lend(registry);
    const removal = registry.remove('ep');
    assert.equal(registry.acquire('ep', 'AllTraffic'), undefined, 'nothing is lent once removal starts');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['closed b'], 'the idle instance is closed at once, the busy one waits');
    lease.release();
    await removal;
    assert.deepEqual(log.sort(), ['closed a', 'closed b']);
  });
});

describe('instanceThreads', () => {
  const cases: [string, number, number, number][] = [
    ['ml.m5.large', 1, 2, 2],
    ['ml.m5.large', 2, 2, 1],
    ['ml.m5.large', 5, 2, 1],
    ['ml.m5.xlarge', 1, 2, 2],
    ['ml.m5.xlarge', 2, 8, 4],
    ['ml.c5.2xlarge', 3, 8, 2],
  ];
  for (const [type, count, cores, threads] of cases) {
    it(`${count} × ${type} on ${cores} cores: ${threads} thread(s) each`, () => assert.equal(instanceThreads(type, count, cores), threads));
  }
});
