import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../core/random.ts';
import { assertHeadWeights, initHeadWeights } from './head-weights.ts';

describe('initHeadWeights', () => {
  it('draws every parameter from U(−1/√fan_in, 1/√fan_in), as nn.Linear does', () => {
    const weights = initHeadWeights({ featureSize: 400, hiddenUnits: 50, classCount: 10 }, seededRandom(1));
    assert.deepEqual([weights.w1.length, weights.b1.length, weights.w2.length, weights.b2.length], [20000, 50, 500, 10]);
    const bounds = { w1: 1 / 20, b1: 1 / 20, w2: 1 / Math.sqrt(50), b2: 1 / Math.sqrt(50) };
    for (const [name, bound] of Object.entries(bounds)) {
      const values = Array.from(weights[name as keyof typeof bounds]);
      assert.ok(values.every((v) => Math.abs(v) <= bound), `${name} within ±${bound}`);
      // Spread over the whole interval, not a narrower one.
      assert.ok(Math.max(...values.map(Math.abs)) > bound * 0.8, `${name} reaches near ±${bound}`);
    }
    const mean = weights.w1.reduce((a, b) => a + b, 0) / weights.w1.length;
    assert.ok(Math.abs(mean) < 0.002);
  });

  it('is reproducible for a random stream', () => {
    const shape = { featureSize: 8, hiddenUnits: 4, classCount: 3 };
    assert.deepEqual(initHeadWeights(shape, seededRandom(5)), initHeadWeights(shape, seededRandom(5)));
  });

  it('refuses shapes and arrays that do not fit', () => {
    assert.throws(() => initHeadWeights({ featureSize: 0, hiddenUnits: 4, classCount: 3 }, seededRandom(1)), /featureSize must be a positive integer/);
    const weights = initHeadWeights({ featureSize: 8, hiddenUnits: 4, classCount: 3 }, seededRandom(1));
    assert.throws(() => assertHeadWeights({ ...weights, w1: new Float32Array(31) }), /w1 has 31 values, expected 32/);
  });
});
