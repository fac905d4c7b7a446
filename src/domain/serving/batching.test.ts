import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideBatch, NO_BATCHING, type BatchDecision, type BatchingPolicy } from './batching.ts';

const policy: BatchingPolicy = { maxBatchSize: 4, maxDelayMs: 10 };

describe('decideBatch', () => {
  const cases: [string, number[], BatchingPolicy, number, BatchDecision][] = [
    ['nothing queued: idle', [], policy, 0, { kind: 'idle' }],
    ['one request, just arrived: waits until its delay is up', [100], policy, 100, { kind: 'wait', untilMs: 110 }],
    ['a partial batch waits for its oldest request, not the newest', [100, 105, 108], policy, 108, { kind: 'wait', untilMs: 110 }],
    ['a partial batch goes when the oldest has waited maxDelayMs', [100, 105, 108], policy, 110, { kind: 'dispatch', count: 3 }],
    ['a late look still sends everything queued', [100, 105], policy, 500, { kind: 'dispatch', count: 2 }],
    ['a full batch goes at once', [100, 101, 102, 103], policy, 103, { kind: 'dispatch', count: 4 }],
    ['more than a batch: the oldest maxBatchSize go first', [100, 101, 102, 103, 104, 105], policy, 104, { kind: 'dispatch', count: 4 }],
    ['no batching: each request goes alone at once', [100, 101], NO_BATCHING, 100, { kind: 'dispatch', count: 1 }],
    ['batching without a delay sends what is there', [100, 101], { maxBatchSize: 8, maxDelayMs: 0 }, 101, { kind: 'dispatch', count: 2 }],
  ];
  for (const [name, arrivals, batching, now, expected] of cases) {
    it(name, () => assert.deepEqual(decideBatch(arrivals, batching, now), expected));
  }

  it('on a fake clock, a steady stream makes full batches and a trickle waits at most maxDelayMs', () => {
    // A request every 2 ms for 40 ms, then one every 30 ms: the policy is asked every millisecond.
    const arrivals = [...Array.from({ length: 20 }, (_, i) => i * 2), 70, 100, 130];
    const queue: number[] = [];
    const sent: { atMs: number; count: number; oldestWaitedMs: number }[] = [];
    for (let now = 0; now <= 200; now++) {
      for (const at of arrivals) if (at === now) queue.push(at);
      const decision = decideBatch(queue, policy, now);
      if (decision.kind === 'dispatch') {
        const batch = queue.splice(0, decision.count);
        sent.push({ atMs: now, count: batch.length, oldestWaitedMs: now - batch[0] });
      }
    }
    assert.equal(sent.reduce((total, batch) => total + batch.count, 0), arrivals.length, 'every request was sent once');
    assert.deepEqual(sent.slice(0, 5).map((batch) => batch.count), [4, 4, 4, 4, 4], 'the stream went in full batches');
    assert.deepEqual(sent.slice(5).map((batch) => [batch.count, batch.oldestWaitedMs]), [[1, 10], [1, 10], [1, 10]], 'the trickle went alone, each after 10 ms');
    assert.ok(sent.every((batch) => batch.oldestWaitedMs <= policy.maxDelayMs));
  });
});
