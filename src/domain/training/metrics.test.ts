import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addBatch, EMPTY_TOTALS, meanMetrics } from './metrics.ts';

describe('metrics', () => {
  it('averages over samples, so batches of unequal size weigh by their size', () => {
    // Batch 1: 4 samples, mean loss 1.0, 3 right. Batch 2 (last, partial): 1 sample, loss 6, wrong.
    let totals = addBatch({ ...EMPTY_TOTALS }, { lossSum: 4, correct: 3, count: 4 });
    totals = addBatch(totals, { lossSum: 6, correct: 0, count: 1 });
    assert.deepEqual(totals, { lossSum: 10, correct: 3, count: 5 });
    // Per sample: 10 / 5 = 2 (a mean of batch means would say 3.5); accuracy 3/5, not floor(3/5) = 0.
    assert.deepEqual(meanMetrics(totals), { loss: 2, accuracy: 0.6 });
  });

  it('refuses to average nothing', () => {
    assert.throws(() => meanMetrics(EMPTY_TOTALS), /zero samples/);
  });
});
