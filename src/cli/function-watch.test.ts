import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderFunctionWatch } from './function-watch.ts';

describe('kennel functions watch', () => {
  it('draws the window’s invocations, errors, throttles, concurrency, duration percentiles, cold starts and a sparkline', () => {
    const screen = renderFunctionWatch(
      {
        functionName: 'classify',
        windowMs: 2000,
        invocations: 40,
        errors: 1,
        throttles: 12,
        coldStarts: 3,
        provisionedConcurrencySpilloverInvocations: 2,
        concurrentExecutions: 5,
        durationP50Ms: 61.25,
        durationP90Ms: 90,
        durationP99Ms: 140.5,
      },
      [2, 10, 52],
    );
    const lines = screen.split('\n');
    assert.equal(lines[0], 'classify  (last 2 s)');
    assert.match(lines[1]!, /invocations 40 {3}errors 1 {3}throttles 12 {3}concurrent now 5/);
    assert.match(lines[2]!, /p50 61\.3 ms {3}p90 90\.0 ms {3}p99 140\.5 ms/);
    assert.match(lines[3]!, /cold starts 3 {3}provisioned spillover 2/);
    assert.equal(lines[4]!.trim(), '▁▂█');
  });

  it('says "-" for percentiles of a window with no invocations', () => {
    const screen = renderFunctionWatch(
      { functionName: 'idle', windowMs: 1000, invocations: 0, errors: 0, throttles: 0, coldStarts: 0, provisionedConcurrencySpilloverInvocations: 0, concurrentExecutions: 0 },
      [0],
    );
    assert.match(screen, /p50 - {3}p90 - {3}p99 -/);
  });
});
