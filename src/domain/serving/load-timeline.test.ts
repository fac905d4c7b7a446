import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { networkErrorCode, outcomeKind, wireErrorCode } from './load-outcomes.ts';
import { buildTimeline, latencyPercentiles, loadTotals, percentile, type RequestRecord } from './load-timeline.ts';

const ok = (scheduledMs: number, latencyMs: number): RequestRecord => ({ scheduledMs, completedMs: scheduledMs + latencyMs, latencyMs, code: 'OK' });
const error = (scheduledMs: number, code: string, latencyMs = 2): RequestRecord => ({ scheduledMs, completedMs: scheduledMs + latencyMs, latencyMs, code });
const skipped = (scheduledMs: number): RequestRecord => ({ scheduledMs, completedMs: scheduledMs, code: 'ClientSkipped' });

describe('percentiles', () => {
  it('nearest rank over 1..100', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 90), 90);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile(values, 100), 100);
  });

  it('of a handful, unsorted: p99 is the slowest', () => {
    assert.deepEqual(latencyPercentiles([30, 10, 20, 40, 1000]), { p50Ms: 30, p90Ms: 1000, p99Ms: 1000 });
    assert.deepEqual(latencyPercentiles([7]), { p50Ms: 7, p90Ms: 7, p99Ms: 7 });
    assert.equal(latencyPercentiles([]), null);
  });
});

describe('load outcomes', () => {
  it('back-pressure answers are apart from failures, and skips apart from both', () => {
    assert.equal(outcomeKind('OK'), 'ok');
    assert.equal(outcomeKind('ServiceUnavailable'), 'backPressure');
    assert.equal(outcomeKind('ThrottlingException'), 'backPressure');
    assert.equal(outcomeKind('ModelError'), 'failure');
    assert.equal(outcomeKind('NetworkError:ECONNREFUSED'), 'failure');
    assert.equal(outcomeKind('ClientSkipped'), 'skipped');
  });

  it('reads the error code as the SDKs do: header first, then the JSON body, then the status', () => {
    assert.equal(wireErrorCode(503, 'ServiceUnavailable', '{}'), 'ServiceUnavailable');
    assert.equal(wireErrorCode(400, 'ValidationError:http://internal.amazon.com/coral/com.amazon.coral.validate/', ''), 'ValidationError');
    assert.equal(wireErrorCode(424, undefined, '{"__type":"com.amazon.sagemaker#ModelError","Message":"x"}'), 'ModelError');
    assert.equal(wireErrorCode(429, undefined, '{"ErrorCode":"ThrottlingException"}'), 'ThrottlingException');
    assert.equal(wireErrorCode(502, undefined, '<html>Bad gateway</html>'), 'HTTP502');
    assert.equal(networkErrorCode('ECONNRESET'), 'NetworkError:ECONNRESET');
  });
});

describe('the timeline', () => {
  it('one row per interval: offered by when due, achieved and latency by when answered', () => {
    const records = [ok(0, 10), ok(500, 20), ok(900, 300), ok(1000, 40), ok(1500, 50)];
    const rows = buildTimeline(records, [], { intervalMs: 1000, runMs: 2000 });
    assert.equal(rows.length, 2);
    assert.deepEqual(
      rows.map((row) => [row.startSeconds, row.endSeconds, row.offered, row.ok, row.offeredRps, row.achievedRps]),
      [
        [0, 1, 3, 2, 3, 2],
        [1, 2, 2, 3, 2, 3], // the request due at 900 ms was answered at 1200 ms
      ],
    );
    assert.deepEqual(rows[0].latency, { p50Ms: 10, p90Ms: 20, p99Ms: 20 });
    assert.deepEqual(rows[1].latency, { p50Ms: 50, p90Ms: 300, p99Ms: 300 });
  });

  it('answers after the run make rows of their own, the last one per second of its own length', () => {
    const rows = buildTimeline([ok(1900, 600)], [], { intervalMs: 1000, runMs: 2000 });
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((row) => row.ok), [0, 0, 1]);
    assert.equal(rows[2].endSeconds, 2.5);
    assert.equal(rows[2].achievedRps, 2, 'one answer in half a second');
    assert.equal(rows[1].offered, 1);
  });

  it('buckets errors by code, back-pressure apart from failures, skips apart from both', () => {
    const records = [ok(0, 5), error(100, 'ServiceUnavailable'), error(200, 'ServiceUnavailable'), error(300, 'ThrottlingException'), error(400, 'ModelError'), error(500, 'NetworkError:ECONNRESET'), skipped(600)];
    const [row] = buildTimeline(records, [], { intervalMs: 1000, runMs: 1000 });
    assert.deepEqual(row.backPressure, { ServiceUnavailable: 2, ThrottlingException: 1 });
    assert.deepEqual(row.failures, { ModelError: 1, 'NetworkError:ECONNRESET': 1 });
    assert.equal(row.clientSkipped, 1);
    assert.equal(row.offered, 7);
    assert.equal(row.ok, 1);
    assert.deepEqual(row.latency, { p50Ms: 5, p90Ms: 5, p99Ms: 5 }, 'latency is of successful answers only: a fast refusal does not flatter it');
  });

  it('shows the instances last seen by the end of each interval', () => {
    const samples = [
      { atMs: 0, variants: { AllTraffic: 1 } },
      { atMs: 1500, variants: { AllTraffic: 2 } },
      { atMs: 2100, variants: { AllTraffic: 3 } },
    ];
    const rows = buildTimeline([], samples, { intervalMs: 1000, runMs: 4000 });
    assert.deepEqual(rows.map((row) => row.instances.AllTraffic), [1, 2, 3, 3]);
    assert.deepEqual(buildTimeline([], [], { intervalMs: 1000, runMs: 1000 })[0].instances, {});
  });

  it('totals account for every request, and keep the most instances seen', () => {
    const records = [ok(0, 10), ok(10, 30), error(20, 'ServiceUnavailable'), error(30, 'ModelError'), skipped(40), skipped(50)];
    const totals = loadTotals(records, [{ atMs: 0, variants: { A: 1, B: 2 } }, { atMs: 10, variants: { A: 3, B: 1 } }]);
    assert.deepEqual(totals, {
      scheduled: 6,
      sent: 4,
      answeredOk: 2,
      backPressure: { total: 1, byCode: { ServiceUnavailable: 1 } },
      failures: { total: 1, byCode: { ModelError: 1 } },
      clientSkipped: 2,
      latency: { p50Ms: 10, p90Ms: 30, p99Ms: 30 },
      maxInstances: { A: 3, B: 2 },
    });
    assert.equal(totals.answeredOk + totals.backPressure.total + totals.failures.total + totals.clientSkipped, totals.scheduled);
  });
});
