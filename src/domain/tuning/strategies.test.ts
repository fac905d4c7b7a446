import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { seededRandom } from '../../core/random.ts';
import { gridSampler } from './grid-sampler.ts';
import { randomSampler } from './random-sampler.ts';
import type { SearchSpace, TrialRecord } from './search-space.ts';
import { strategyFor } from './strategies.ts';
import { tpeSampler } from './tpe-sampler.ts';

const space: SearchSpace = [{ kind: 'Categorical', name: 'batch_size', values: ['32', '64', '128'] }];
const numeric: SearchSpace = [{ kind: 'Continuous', name: 'x', min: 0, max: 1, scaling: 'Linear' }];
const history: TrialRecord[] = Array.from({ length: 12 }, (_, number) => ({ number, params: { x: number / 12 }, state: 'complete', intermediate: [], value: (number / 12 - 0.3) ** 2 }));

function refusedField(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof DomainError && error.code === 'ValidationError');
    return error.details.field;
  }
  assert.fail('accepted');
}

describe('strategyFor', () => {
  it('Random and Grid propose as their samplers do, with no pruner while early stopping is Off', () => {
    const random = strategyFor('Random');
    assert.equal(random.pruner, undefined);
    assert.deepEqual(random.sampler.propose(numeric, [], 'Minimize', seededRandom(5)), randomSampler().propose(numeric, [], 'Minimize', seededRandom(5)));
    const grid = strategyFor('Grid', { earlyStopping: 'Off' });
    assert.equal(grid.pruner, undefined);
    assert.deepEqual(grid.sampler.propose(space, [], 'Minimize', seededRandom(5)), gridSampler().propose(space, [], 'Minimize', seededRandom(5)));
  });

  it('early stopping Auto adds the median rule to Random, Grid and Bayesian', () => {
    const running: TrialRecord = { number: 20, params: {}, state: 'running', intermediate: [9, 9] };
    const curves: TrialRecord[] = [0, 1, 2].map((number) => ({ number, params: {}, state: 'complete', intermediate: [1, 1], value: 1 }));
    for (const strategy of ['Random', 'Grid', 'Bayesian'] as const) {
      const { pruner } = strategyFor(strategy, { earlyStopping: 'Auto' });
      assert.equal(pruner?.shouldPrune(running, curves, 'Minimize'), true, strategy);
    }
  });

  it('Bayesian is TPE, starting sooner on a small budget', () => {
    const bayesian = strategyFor('Bayesian', { maxNumberOfTrainingJobs: 40 }).sampler;
    assert.deepEqual(bayesian.propose(numeric, history, 'Minimize', seededRandom(2)), tpeSampler().propose(numeric, history, 'Minimize', seededRandom(2)));
    // Six results: past the 5 random trials of a 20-trial budget, still within TPE's default 10.
    const six = history.slice(0, 6);
    const short = strategyFor('Bayesian', { maxNumberOfTrainingJobs: 20 }).sampler;
    assert.notDeepEqual(short.propose(numeric, six, 'Minimize', seededRandom(2)), randomSampler().propose(numeric, six, 'Minimize', seededRandom(2)));
    assert.deepEqual(tpeSampler().propose(numeric, six, 'Minimize', seededRandom(2)), randomSampler().propose(numeric, six, 'Minimize', seededRandom(2)));
  });

  it('Bayesian with parallel trials counts running ones against their spot (constant liar)', () => {
    const withRunning = [...history, ...[0.28, 0.3, 0.32].map((x, i): TrialRecord => ({ number: 12 + i, params: { x }, state: 'running', intermediate: [] }))];
    const serial = strategyFor('Bayesian', { maxParallelTrainingJobs: 1 }).sampler;
    const parallel = strategyFor('Bayesian', { maxParallelTrainingJobs: 2 }).sampler;
    assert.deepEqual(serial.propose(numeric, withRunning, 'Minimize', seededRandom(3)), serial.propose(numeric, history, 'Minimize', seededRandom(3)));
    assert.notDeepEqual(parallel.propose(numeric, withRunning, 'Minimize', seededRandom(3)), serial.propose(numeric, withRunning, 'Minimize', seededRandom(3)));
  });

  it('Hyperband is random proposals with the Hyperband pruner, its MaxResource given or read from the epochs', () => {
    const given = strategyFor('Hyperband', { hyperband: { minResource: 1, maxResource: 9 } });
    assert.deepEqual(given.sampler.propose(numeric, [], 'Minimize', seededRandom(5)), randomSampler().propose(numeric, [], 'Minimize', seededRandom(5)));
    assert.ok(given.pruner);
    assert.ok(strategyFor('Hyperband', { staticHyperParameters: { epochs: '27' } }).pruner);
  });

  it('refuses Hyperband with early stopping Auto, as SageMaker does', () => {
    assert.equal(
      refusedField(() => strategyFor('Hyperband', { earlyStopping: 'Auto', hyperband: { maxResource: 9 } })),
      'HyperParameterTuningJobConfig.TrainingJobEarlyStoppingType',
    );
  });

  it('refuses Hyperband without a MaxResource to give or infer', () => {
    assert.equal(
      refusedField(() => strategyFor('Hyperband', { staticHyperParameters: { batch_size: '64' } })),
      'HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig.MaxResource',
    );
  });
});
