import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../core/random.ts';
import { epochBatches } from './batches.ts';

describe('epochBatches', () => {
  it('covers every sample once, full batches first and the remainder last', () => {
    const batches = epochBatches(10, 4, seededRandom(1));
    assert.deepEqual(batches.map((b) => b.length), [4, 4, 2]);
    const all = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('gives one batch when the batch size exceeds the sample count', () => {
    assert.deepEqual(epochBatches(3, 64, seededRandom(1)).map((b) => b.length), [3]);
  });

  it('shuffles reproducibly: same random stream, same order; next epoch, new order', () => {
    const order = (batches: Int32Array[]) => batches.flatMap((b) => Array.from(b));
    const random = seededRandom(9);
    const first = order(epochBatches(50, 8, random));
    const second = order(epochBatches(50, 8, random));
    assert.deepEqual(order(epochBatches(50, 8, seededRandom(9))), first);
    assert.notDeepEqual(second, first);
    assert.notDeepEqual(first, Array.from({ length: 50 }, (_, i) => i));
  });

  it('refuses sizes that cannot form batches', () => {
    assert.throws(() => epochBatches(0, 4, seededRandom(1)), { code: 'ValidationError' });
    assert.throws(() => epochBatches(10, 0, seededRandom(1)), { code: 'ValidationError' });
  });
});
