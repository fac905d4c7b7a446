import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../core/random.ts';
import { randomSampler, sampleUniform } from './random-sampler.ts';
import type { NumericRange } from './ranges.ts';
import type { ParameterRange } from './search-space.ts';

const SAMPLES = 20_000;

function draws(range: ParameterRange, seed = 1): (number | string)[] {
  const random = seededRandom(seed);
  return Array.from({ length: SAMPLES }, () => sampleUniform(range, random));
}

function fraction(values: readonly (number | string)[], inside: (value: number) => boolean): number {
  return values.filter((value) => inside(value as number)).length / values.length;
}

/** Pearson's chi-square of observed counts against expected probabilities. */
function chiSquare(counts: readonly number[], probabilities: readonly number[]): number {
  const total = counts.reduce((sum, count) => sum + count, 0);
  return counts.reduce((sum, count, i) => sum + (count - total * probabilities[i]) ** 2 / (total * probabilities[i]), 0);
}

/** Upper 0.1% points of the chi-square distribution, by degrees of freedom: a sound sampler fails one in a thousand seeds. */
const CHI_SQUARE_999: Record<number, number> = { 2: 13.82, 3: 16.27, 4: 18.47, 9: 27.88 };

describe('sampleUniform', () => {
  it('draws Logarithmic ranges uniformly in log space: every decade equally often', () => {
    const values = draws({ kind: 'Continuous', name: 'lr', min: 1e-5, max: 1, scaling: 'Logarithmic' });
    const decades = [-5, -4, -3, -2, -1].map((exponent) => values.filter((v) => (v as number) >= 10 ** exponent && (v as number) < 10 ** (exponent + 1)).length);
    assert.ok(chiSquare(decades, [0.2, 0.2, 0.2, 0.2, 0.2]) < CHI_SQUARE_999[4], `decade counts ${decades}`);
    const low = fraction(values, (v) => v >= 1e-4 && v < 1e-3);
    const high = fraction(values, (v) => v >= 1e-2 && v < 1e-1);
    assert.ok(Math.abs(low - high) < 0.02, `[1e-4, 1e-3) ${low} against [1e-2, 1e-1) ${high}`);
    assert.ok(Math.abs(low - 0.2) < 0.015);
  });

  it('draws Linear ranges uniformly', () => {
    const values = draws({ kind: 'Continuous', name: 'x', min: -5, max: 5, scaling: 'Linear' });
    const bins = Array.from({ length: 10 }, (_, i) => values.filter((v) => Math.floor((v as number) + 5) === i).length);
    assert.ok(chiSquare(bins, new Array(10).fill(0.1)) < CHI_SQUARE_999[9], `bins ${bins}`);
  });

  it('draws ReverseLogarithmic ranges uniformly in log(1 - x): 0.9, 0.99 and 0.999 are as far apart as 0, 0.9 and 0.99', () => {
    const values = draws({ kind: 'Continuous', name: 'momentum', min: 0, max: 0.9999, scaling: 'ReverseLogarithmic' });
    const edges = [0, 0.9, 0.99, 0.999, 0.9999];
    const bands = edges.slice(0, -1).map((edge, i) => values.filter((v) => (v as number) >= edge && (v as number) < edges[i + 1]).length);
    assert.ok(chiSquare(bands, [0.25, 0.25, 0.25, 0.25]) < CHI_SQUARE_999[3], `band counts ${bands}`);
  });

  it('keeps every draw inside the range', () => {
    const ranges: NumericRange[] = [
      { kind: 'Continuous', name: 'lr', min: 1e-6, max: 1e-2, scaling: 'Logarithmic' },
      { kind: 'Continuous', name: 'm', min: 0.5, max: 0.99, scaling: 'ReverseLogarithmic' },
      { kind: 'Continuous', name: 'x', min: 0.1, max: 0.3, scaling: 'Auto' },
      { kind: 'Integer', name: 'n', min: 1, max: 7, scaling: 'Logarithmic' },
    ];
    for (const range of ranges) {
      for (const value of draws(range)) assert.ok((value as number) >= range.min && (value as number) <= range.max, `${range.name}: ${value}`);
    }
  });

  it('gives every integer of a Linear range, both ends included, the same chance', () => {
    const values = draws({ kind: 'Integer', name: 'layers', min: 1, max: 5, scaling: 'Linear' });
    const counts = [1, 2, 3, 4, 5].map((k) => values.filter((v) => v === k).length);
    assert.ok(counts.every((count) => count > 0));
    assert.ok(chiSquare(counts, new Array(5).fill(0.2)) < CHI_SQUARE_999[4], `counts ${counts}`);
    assert.ok(values.every((v) => Number.isInteger(v)));
  });

  it('gives each integer of a Logarithmic range the share of its cell in log space, and hits both ends', () => {
    const range = { kind: 'Integer' as const, name: 'units', min: 1, max: 10, scaling: 'Logarithmic' as const };
    const values = draws(range);
    const share = (k: number) => Math.log((k + 0.5) / (k - 0.5)) / Math.log(10.5 / 0.5);
    const ks = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const counts = ks.map((k) => values.filter((v) => v === k).length);
    assert.ok(counts[0] > 0 && counts[9] > 0, `counts ${counts}`);
    assert.ok(chiSquare(counts, ks.map(share)) < CHI_SQUARE_999[9], `counts ${counts}`);
  });

  it('never gives -0 for an integer range from 0', () => {
    assert.ok(draws({ kind: 'Integer', name: 'n', min: 0, max: 2, scaling: 'Linear' }).every((v) => !Object.is(v, -0)));
  });

  it('draws categories uniformly', () => {
    const values = draws({ kind: 'Categorical', name: 'optimizer', values: ['adam', 'sgd', 'rmsprop'] });
    const counts = ['adam', 'sgd', 'rmsprop'].map((value) => values.filter((v) => v === value).length);
    assert.ok(chiSquare(counts, [1 / 3, 1 / 3, 1 / 3]) < CHI_SQUARE_999[2], `counts ${counts}`);
  });

  it('gives the one value of a constant range', () => {
    assert.deepEqual(new Set(draws({ kind: 'Continuous', name: 'dropout', min: 0.5, max: 0.5, scaling: 'Linear' }).slice(0, 100)), new Set([0.5]));
    assert.deepEqual(new Set(draws({ kind: 'Integer', name: 'epochs', min: 3, max: 3, scaling: 'Auto' }).slice(0, 100)), new Set([3]));
  });
});

describe('randomSampler', () => {
  it('proposes a value for every range, whatever the history', () => {
    const space: ParameterRange[] = [
      { kind: 'Continuous', name: 'lr', min: 0.001, max: 0.1, scaling: 'Logarithmic' },
      { kind: 'Categorical', name: 'batch_size', values: ['32', '64'] },
    ];
    const proposal = randomSampler().propose(space, [], 'Minimize', seededRandom(3));
    assert.deepEqual(Object.keys(proposal ?? {}), ['lr', 'batch_size']);
    assert.deepEqual(randomSampler().propose(space, [{ number: 0, params: { lr: 0.01, batch_size: '32' }, state: 'complete', intermediate: [], value: 1 }], 'Maximize', seededRandom(3)), proposal);
  });
});
