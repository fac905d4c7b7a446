import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitForEndpoint } from '../control/wait.ts';
import { deploySmallClassifier, startTestKennel, type TestKennel } from '../testing/test-kennel.ts';
import { runLoad, type LoadReport } from './load-runner.ts';

/**
 * Faults under load over HTTP, every request counted by the load tool: one
 * instance's worker is killed, and later the endpoint is updated to a new
 * config, while a steady stream of InvokeEndpoint requests runs. Neither may
 * cost a request: each is answered (retried on the other instance if need be).
 */
describe('an endpoint under load', { timeout: 180_000 }, () => {
  let test: TestKennel;
  let report: LoadReport;
  const events: string[] = [];

  before(async () => {
    test = await startTestKennel();
    const { platform } = test.kennel;
    await deploySmallClassifier(test, 'steady');
    platform.endpointConfigs.create({ name: 'steady-two', productionVariants: [{ variantName: 'Blue', modelName: 'steady', initialInstanceCount: 2 }] });
    platform.endpointConfigs.create({ name: 'steady-next', productionVariants: [{ variantName: 'Green', modelName: 'steady', initialInstanceCount: 2 }] });
    platform.endpoints.update({ name: 'steady', endpointConfigName: 'steady-two' });
    await waitForEndpoint(platform, 'steady');

    let updated: Promise<unknown> | undefined;
    report = await runLoad({
      url: test.url,
      endpointName: 'steady',
      credentials: test.credentials,
      shape: { kind: 'steady', rps: 20, durationSeconds: 10 },
      onInterval: (row) => {
        if (row.endSeconds === 3) {
          const [doomed] = platform.instances.list('steady');
          events.push(`killed ${doomed.variantName}`);
          void doomed.terminate();
        }
        if (row.endSeconds === 6) {
          events.push('UpdateEndpoint');
          platform.endpoints.update({ name: 'steady', endpointConfigName: 'steady-next' });
          updated = waitForEndpoint(platform, 'steady');
        }
      },
    });
    await updated;
  });
  after(() => test?.close());

  it('answers every request through a killed worker and an UpdateEndpoint', () => {
    const { summary } = report;
    assert.deepEqual(events, ['killed Blue', 'UpdateEndpoint']);
    assert.equal(summary.scheduled, 200);
    assert.equal(summary.clientSkipped, 0);
    assert.deepEqual(summary.failures, { total: 0, byCode: {} });
    assert.deepEqual(summary.backPressure, { total: 0, byCode: {} });
    assert.equal(summary.answeredOk, 200, 'every request was answered');
  });

  it('ends on the new config, with the killed instance replaced before', () => {
    const endpoint = test.kennel.platform.endpoints.describe('steady');
    assert.equal(endpoint.endpointConfigName, 'steady-next');
    assert.equal(endpoint.status, 'InService');
    assert.equal(test.kennel.platform.instances.count('steady', 'Green'), 2);
    const blue = report.rows.filter((row) => row.endSeconds > 3 && row.endSeconds <= 6).map((row) => row.instances.Blue);
    assert.ok(blue.includes(2), `the dead Blue instance was replaced before the update: ${blue.join(' ')}`);
  });
});
