import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../core/random.ts';
import { categoricalEstimator, logNormalMass, numericEstimator } from './parzen-estimator.ts';
import type { NumericRange } from './ranges.ts';

describe('logNormalMass', () => {
  // Reference values from scipy.stats.norm.
  const cases: [string, number, number, number][] = [
    ['the middle', -1, 1, -0.38171514630212616],
    ['an interval across 0', -0.3, 0.2, -1.6236832388683202],
    ['an upper tail', 2, 2.001, -9.827693812103515],
    ['far in the upper tail, where the probability underflows a subtraction of CDFs', 10, 11, -53.23131022558313],
    ['beyond what a double holds as a probability', 30, 30.5, -454.32124422188514],
    ['the same far out in the lower tail', -30.5, -30, -454.32124422188514],
    ['a narrow cell', 0.5, 0.50001, -12.55686649819227],
  ];
  for (const [what, a, b, expected] of cases) {
    it(what, () => assert.ok(Math.abs(logNormalMass(a, b) - expected) < 1e-5 * Math.max(1, Math.abs(expected)), `${logNormalMass(a, b)} against ${expected}`));
  }
});

const linear: NumericRange = { kind: 'Continuous', name: 'x', min: -10, max: 10, scaling: 'Linear' };

function integrate(f: (x: number) => number, low: number, high: number, steps = 20_000): number {
  const h = (high - low) / steps;
  let sum = (f(low) + f(high)) / 2;
  for (let i = 1; i < steps; i++) sum += f(low + i * h);
  return sum * h;
}

describe('numericEstimator', () => {
  it('is a density over the range: it integrates to 1, with or without observations', () => {
    for (const observations of [[], [2], [-9.5, -9, 0, 0.1, 7]]) {
      const estimator = numericEstimator(linear, observations, observations.map(() => 1), 1);
      const total = integrate((x) => Math.exp(estimator.logPdf(x)), -10, 10);
      assert.ok(Math.abs(total - 1) < 1e-4, `${observations}: ${total}`);
    }
  });

  it('puts its mass near the observations, the more so the more there are', () => {
    const near = (observations: number[]) => {
      const estimator = numericEstimator(linear, observations, observations.map(() => 1), 1);
      const random = seededRandom(4);
      const samples = Array.from({ length: 2000 }, () => estimator.sample(random));
      assert.ok(samples.every((x) => x >= -10 && x <= 10));
      assert.ok(estimator.logPdf(3) > estimator.logPdf(-5) + 1);
      return samples.filter((x) => Math.abs(x - 3) < 2).length / samples.length;
    };
    const few = near([2.9, 3, 3.2]);
    const many = near(Array.from({ length: 30 }, (_, i) => 2.5 + i / 30));
    assert.ok(few > 0.3 && many > 0.8 && many > few, `${few} then ${many}, against 0.2 for a uniform draw`);
  });

  it('keeps a finite width for a pile of equal observations (the magic clip)', () => {
    const estimator = numericEstimator(linear, new Array(50).fill(1), new Array(50).fill(1), 1);
    assert.ok(Number.isFinite(estimator.logPdf(1)));
    assert.ok(Number.isFinite(estimator.logPdf(-10)));
    assert.ok(estimator.logPdf(1) < Math.log(5), 'no narrower than the range over 52');
  });

  it('gives an integer range masses per integer that add up to 1, and draws integers', () => {
    const range: NumericRange = { kind: 'Integer', name: 'units', min: 1, max: 50, scaling: 'Logarithmic' };
    const estimator = numericEstimator(range, [4, 5, 40], [1, 1, 1], 1);
    let total = 0;
    for (let k = 1; k <= 50; k++) total += Math.exp(estimator.logPdf(k));
    assert.ok(Math.abs(total - 1) < 1e-6, `${total}`);
    const random = seededRandom(9);
    for (let i = 0; i < 500; i++) {
      const k = estimator.sample(random);
      assert.ok(Number.isInteger(k) && k >= 1 && k <= 50, `${k}`);
    }
  });

  it('works in the scaled space: on a log range the kernels are as wide in each decade', () => {
    const range: NumericRange = { kind: 'Continuous', name: 'lr', min: 1e-5, max: 1, scaling: 'Logarithmic' };
    const estimator = numericEstimator(range, [1e-3], [1], 1);
    // Densities in ln x: as far below 1e-3 as above, in decades, is as likely.
    assert.ok(Math.abs(estimator.logPdf(1e-4) - estimator.logPdf(1e-2)) < 0.2);
  });
});

describe('categoricalEstimator', () => {
  it('is uniform with nothing observed', () => {
    const estimator = categoricalEstimator(4, [], [], 1);
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(Math.exp(estimator.logPdf(c)) - 0.25) < 1e-12);
  });

  it('smooths the counts of what was observed, summing to 1', () => {
    const estimator = categoricalEstimator(3, [0, 0, 2], [1, 1, 1], 1);
    const p = [0, 1, 2].map((c) => Math.exp(estimator.logPdf(c)));
    assert.ok(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-12);
    assert.ok(p[0] > p[2] && p[2] > p[1] && p[1] > 0, `${p}`);
    const random = seededRandom(2);
    const draws = Array.from({ length: 3000 }, () => estimator.sample(random));
    assert.ok(Math.abs(draws.filter((c) => c === 0).length / 3000 - p[0]) < 0.03);
  });
});
