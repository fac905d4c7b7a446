import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { render } from './endpoint-watch.ts';
import { sparkline } from './sparkline.ts';

describe('kennel endpoints watch', () => {
  it('draws each variant with its instances, weights, rates, latencies, queue and errors, and the latest scaling events', () => {
    const screen = render(
      { EndpointName: 'dogs', EndpointStatus: 'Updating', ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: 2, DesiredInstanceCount: 3, CurrentWeight: 1, DesiredWeight: 1 }] },
      [
        {
          endpointName: 'dogs',
          variantName: 'AllTraffic',
          invocationsPerSecond: 12.5,
          errorsPerSecond: 0.5,
          errorsByCode: { ServiceUnavailable: 1 },
          p50Ms: 41.25,
          p99Ms: 97,
          instances: 2,
          queueDepth: 7,
        },
      ],
      new Map([['AllTraffic', [1, 4, 8]]]),
      ['12:00:01 AllTraffic: Setting desired instance count to 3. InProgress (the metric was above the target)'],
    );
    const lines = screen.split('\n');
    assert.equal(lines[0], 'dogs  Updating');
    const row = lines.find((line) => line.startsWith('AllTraffic'))!;
    for (const cell of ['2/3', '1/1', '12.5', '41.3', '97.0', '7', 'ServiceUnavailable×1', '▂▅█']) assert.ok(row.includes(cell), `${cell} in ${row}`);
    assert.match(screen, /Scaling activities:\n {2}12:00:01 AllTraffic: Setting desired instance count to 3\. InProgress/);
  });

  it('scales the sparkline to the busiest interval, and draws idle ones low', () => {
    assert.equal(sparkline([0, 5, 10]), '▁▅█');
    assert.equal(sparkline([0, 0]), '▁▁');
  });
});
