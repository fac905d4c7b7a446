import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramQuantile, parseExposition, variantWindows } from './metrics-window.ts';

describe('parseExposition', () => {
  it('reads names, labels and values, skipping comments', () => {
    const samples = parseExposition(
      ['# HELP x y', '# TYPE x counter', 'x_total{endpoint="a",variant="b\\"c"} 3', 'up 1', '', 'h_bucket{le="+Inf"} 7'].join('\n'),
    );
    assert.deepEqual(samples, [
      { name: 'x_total', labels: { endpoint: 'a', variant: 'b"c' }, value: 3 },
      { name: 'up', labels: {}, value: 1 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 7 },
    ]);
  });
});

describe('histogramQuantile', () => {
  const buckets = [
    { le: 0.1, count: 50 },
    { le: 0.2, count: 90 },
    { le: 0.5, count: 100 },
    { le: Infinity, count: 100 },
  ];
  it('interpolates inside the bucket the rank falls in, as Prometheus does', () => {
    assert.equal(histogramQuantile(buckets, 0.5), 0.1);
    assert.ok(Math.abs(histogramQuantile(buckets, 0.7)! - 0.15) < 1e-12);
    assert.ok(Math.abs(histogramQuantile(buckets, 0.99)! - 0.47) < 1e-12);
  });
  it('is undefined without observations, and the last finite bound above it', () => {
    assert.equal(histogramQuantile([{ le: 0.1, count: 0 }, { le: Infinity, count: 0 }], 0.5), undefined);
    assert.equal(histogramQuantile([{ le: 0.1, count: 0 }, { le: Infinity, count: 4 }], 0.5), 0.1);
  });
});

describe('variantWindows', () => {
  const scrape = (invocations: number, errors: number, fast: number, all: number, instances: number) =>
    parseExposition(
      [
        `kennel_endpoint_invocations_total{endpoint="e",variant="v"} ${invocations}`,
        `kennel_endpoint_invocation_errors_total{endpoint="e",variant="v",code="ServiceUnavailable"} ${errors}`,
        `kennel_endpoint_model_latency_seconds_bucket{le="0.05",endpoint="e",variant="v"} ${fast}`,
        `kennel_endpoint_model_latency_seconds_bucket{le="0.1",endpoint="e",variant="v"} ${all}`,
        `kennel_endpoint_model_latency_seconds_bucket{le="+Inf",endpoint="e",variant="v"} ${all}`,
        `kennel_endpoint_instances{endpoint="e",variant="v"} ${instances}`,
        `kennel_endpoint_queue_depth{endpoint="e",variant="v"} 2`,
        `kennel_endpoint_invocations_total{endpoint="other",variant="v"} 1000`,
      ].join('\n'),
    );
  it('gives rates and percentiles of what happened between the scrapes only', () => {
    const [window] = variantWindows(scrape(100, 1, 40, 90, 1), scrape(140, 5, 60, 130, 3), 2, 'e');
    assert.equal(window.invocationsPerSecond, 20);
    assert.equal(window.errorsPerSecond, 2);
    assert.deepEqual(window.errorsByCode, { ServiceUnavailable: 4 });
    assert.equal(window.p50Ms, 50, "half of the 40 in the window took at most 50 ms");
    assert.equal(window.instances, 3);
    assert.equal(window.queueDepth, 2);
  });
});
