import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../core/random.ts';
import { gridSampler } from './grid-sampler.ts';
import type { ParameterValues, SearchSpace, TrialRecord } from './search-space.ts';
import { tpeSampler } from './tpe-sampler.ts';
import { warmStartHistory } from './warm-start.ts';

const space: SearchSpace = [
  { kind: 'Continuous', name: 'learning_rate', min: 0.001, max: 0.1, scaling: 'Logarithmic' },
  { kind: 'Categorical', name: 'batch_size', values: ['32', '64', '128'] },
];

const trial = (number: number, params: ParameterValues, state: TrialRecord['state'] = 'complete', value = 1): TrialRecord => ({
  number,
  params,
  state,
  intermediate: [value],
  ...(state === 'complete' ? { value } : {}),
});

const parentA = [
  trial(0, { learning_rate: 0.01, batch_size: '64' }, 'complete', 0.5),
  trial(1, { learning_rate: 0.5, batch_size: '64' }, 'complete', 0.9),
  trial(2, { learning_rate: 0.02, batch_size: '32' }, 'pruned', 0.7),
  trial(3, { learning_rate: 0.03, batch_size: '32' }, 'running'),
  trial(4, { learning_rate: 0.04, batch_size: '32' }, 'failed'),
  trial(5, { learning_rate: 0.05, batch_size: '256', dropout: 0.2 }, 'complete', 0.6),
];
const parentB = [
  trial(1, { learning_rate: 0.002, batch_size: '128', momentum: 0.9 }, 'complete', 0.4),
  trial(0, { batch_size: '32' }, 'complete', 0.8),
  trial(2, { learning_rate: 0.003 }, 'complete', 0.3),
  trial(3, { dropout: 0.5 }, 'complete', 0.2),
];

const summary = (history: readonly TrialRecord[]) => history.map((t) => [t.number, t.params, t.state]);

describe('warmStartHistory', () => {
  it('IdenticalDataAndAlgorithm keeps the finished trials that are points of the current space, numbered before the new job', () => {
    assert.deepEqual(summary(warmStartHistory([parentA, parentB], 'IdenticalDataAndAlgorithm', space)), [
      [-3, { learning_rate: 0.01, batch_size: '64' }, 'complete'],
      [-2, { learning_rate: 0.02, batch_size: '32' }, 'pruned'],
      // momentum is no longer tuned (made static), so it is dropped from the values.
      [-1, { learning_rate: 0.002, batch_size: '128' }, 'complete'],
    ]);
  });

  it('TransferLearning also keeps trials with some parameters missing or outside the new ranges, without those values', () => {
    assert.deepEqual(summary(warmStartHistory([parentA, parentB], 'TransferLearning', space)), [
      [-7, { learning_rate: 0.01, batch_size: '64' }, 'complete'],
      [-6, { batch_size: '64' }, 'complete'],
      [-5, { learning_rate: 0.02, batch_size: '32' }, 'pruned'],
      [-4, { learning_rate: 0.05 }, 'complete'],
      [-3, { batch_size: '32' }, 'complete'],
      [-2, { learning_rate: 0.002, batch_size: '128' }, 'complete'],
      [-1, { learning_rate: 0.003 }, 'complete'],
    ]);
  });

  it('keeps the results: values, curves and states', () => {
    const [first] = warmStartHistory([parentA], 'IdenticalDataAndAlgorithm', space);
    assert.deepEqual(first, { number: -2, params: { learning_rate: 0.01, batch_size: '64' }, state: 'complete', intermediate: [0.5], value: 0.5 });
  });

  it('reads values as the current ranges hold them: numbers for numeric ranges, strings for categories', () => {
    const parent = [trial(0, { learning_rate: '0.01', batch_size: 64 })];
    assert.deepEqual(warmStartHistory([parent], 'IdenticalDataAndAlgorithm', space)[0].params, { learning_rate: 0.01, batch_size: '64' });
    const integers: SearchSpace = [{ kind: 'Integer', name: 'units', min: 1, max: 100, scaling: 'Linear' }];
    assert.equal(warmStartHistory([[trial(0, { units: 12.5 })]], 'IdenticalDataAndAlgorithm', integers).length, 0);
  });

  it('informs the Bayesian strategy: proposals follow the parents’ best region', () => {
    const line: SearchSpace = [{ kind: 'Continuous', name: 'x', min: -10, max: 10, scaling: 'Linear' }];
    const parent = Array.from({ length: 30 }, (_, i) => trial(i, { x: -10 + (20 * i) / 29 }, 'complete', (-10 + (20 * i) / 29 - 6) ** 2));
    const history = warmStartHistory([parent], 'IdenticalDataAndAlgorithm', line);
    const proposals = Array.from({ length: 30 }, (_, i) => tpeSampler().propose(line, history, 'Minimize', seededRandom(i))!.x as number);
    assert.ok(proposals.filter((x) => Math.abs(x - 6) < 3).length / proposals.length > 0.6);
  });

  it('lets Grid skip what the parents tried', () => {
    const grid: SearchSpace = [space[1]];
    const history = warmStartHistory([[trial(0, { batch_size: '32' }), trial(1, { batch_size: '128' })]], 'IdenticalDataAndAlgorithm', grid);
    assert.deepEqual(gridSampler().propose(grid, history, 'Minimize', seededRandom(0)), { batch_size: '64' });
  });
});
