import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import type { Instance } from '../runtime/serving/instance-types.ts';
import { InstanceHealthChecks } from './instance-health.ts';
import { InstanceRegistry } from './instances.ts';

function fakeInstance(answers: () => boolean): Instance & { terminated: boolean } {
  const instance = {
    kind: 'classifier' as const,
    modelName: 'm',
    variantName: 'AllTraffic',
    classCount: 2,
    alive: true,
    terminated: false,
    classify: async () => ({ predictions: [], modelLatencyMs: 1, computeMs: 1 }),
    // A hung worker never answers: the promise stays pending.
    ping: () => (answers() ? Promise.resolve() : new Promise<void>(() => {})),
    onExit: () => {},
    terminate: async () => {
      instance.terminated = true;
      instance.alive = false;
    },
    close: async () => {},
  };
  return instance;
}

describe('instance health checks', () => {
  const settings = { intervalMs: 1000, timeoutMs: 5, unhealthyThreshold: 3 };

  it('ends an instance after three missed checks in a row, and leaves a healthy one alone', async () => {
    const registry = new InstanceRegistry();
    const healthy = fakeInstance(() => true);
    const hung = fakeInstance(() => false);
    registry.add('ep', 'AllTraffic', healthy);
    registry.add('ep', 'AllTraffic', hung);
    const checks = new InstanceHealthChecks(registry, silentLogger, settings);
    await checks.run(0);
    await checks.run(1000);
    assert.equal(hung.terminated, false, 'two misses are not enough');
    await checks.run(1500);
    assert.equal(hung.terminated, false, 'checks run once per interval');
    await checks.run(2000);
    assert.equal(hung.terminated, true);
    assert.equal(healthy.terminated, false);
  });

  it('counts only misses in a row: an answer in between starts over', async () => {
    const registry = new InstanceRegistry();
    const answers = [false, false, true, false, false];
    const flaky = fakeInstance(() => answers.shift() ?? true);
    registry.add('ep', 'AllTraffic', flaky);
    const checks = new InstanceHealthChecks(registry, silentLogger, settings);
    for (let round = 0; round < 5; round++) await checks.run(round * 1000);
    assert.equal(flaky.terminated, false);
  });
});
