import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../core/random.ts';
import { proposalRandom } from './proposal-random.ts';
import { randomSampler } from './random-sampler.ts';
import type { ObjectiveType, ParameterValues, SearchSpace, TrialRecord } from './search-space.ts';
import type { Sampler } from './strategy.ts';
import { defaultGamma, defaultWeights, startupTrialsFor, tpeSampler } from './tpe-sampler.ts';

const line: SearchSpace = [{ kind: 'Continuous', name: 'x', min: -10, max: 10, scaling: 'Linear' }];
const complete = (number: number, params: ParameterValues, value: number): TrialRecord => ({ number, params, state: 'complete', intermediate: [value], value });

/** Runs trials one after another and returns every proposal. */
function run(sampler: Sampler, space: SearchSpace, objective: ObjectiveType, evaluate: (params: ParameterValues) => number, trials: number, seed = 1): ParameterValues[] {
  const history: TrialRecord[] = [];
  for (let number = 0; number < trials; number++) {
    const params = sampler.propose(space, history, objective, proposalRandom(seed, number))!;
    history.push(complete(number, params, evaluate(params)));
  }
  return history.map((trial) => trial.params);
}

/** Proposals from one history with `count` independent random streams. */
function proposals(sampler: Sampler, space: SearchSpace, history: readonly TrialRecord[], count = 40, objective: ObjectiveType = 'Minimize'): ParameterValues[] {
  return Array.from({ length: count }, (_, i) => sampler.propose(space, history, objective, seededRandom(1000 + i))!);
}

const share = (values: readonly ParameterValues[], inside: (params: ParameterValues) => boolean) => values.filter(inside).length / values.length;
const near = (centre: number, width: number) => (params: ParameterValues) => Math.abs((params.x as number) - centre) <= width;

describe('TPE settings as Optuna defines them', () => {
  it('gamma: the best tenth, at most 25', () => {
    for (const [n, expected] of [[1, 1], [10, 1], [11, 2], [100, 10], [250, 25], [1000, 25]]) assert.equal(defaultGamma(n), expected, `n=${n}`);
  });

  it('weights: equal up to 25 observations, then a ramp for the older ones', () => {
    assert.deepEqual(defaultWeights(3), [1, 1, 1]);
    assert.deepEqual(defaultWeights(25), new Array(25).fill(1));
    assert.deepEqual(defaultWeights(26), [1 / 26, ...new Array(25).fill(1)]);
    const weights = defaultWeights(35);
    assert.equal(weights.length, 35);
    assert.ok(Math.abs(weights[0] - 1 / 35) < 1e-12 && Math.abs(weights[9] - 1) < 1e-12);
    for (let i = 1; i < 10; i++) assert.ok(weights[i] > weights[i - 1]);
  });

  it('starts with 10 random trials, or a quarter of a small budget', () => {
    for (const [budget, expected] of [[750, 10], [40, 10], [20, 5], [8, 2], [2, 1], [1, 1]]) assert.equal(startupTrialsFor(budget), expected, `budget ${budget}`);
  });
});

describe('tpeSampler', () => {
  it('proposes at random, exactly as the Random strategy, until it has nStartupTrials results', () => {
    const quadratic = (p: ParameterValues) => ((p.x as number) - 3) ** 2;
    assert.deepEqual(run(tpeSampler({ nStartupTrials: 6 }), line, 'Minimize', quadratic, 6), run(randomSampler(), line, 'Minimize', quadratic, 6));
    assert.notDeepEqual(run(tpeSampler({ nStartupTrials: 6 }), line, 'Minimize', quadratic, 7)[6], run(randomSampler(), line, 'Minimize', quadratic, 7)[6]);
  });

  it('focuses: after enough trials on a 1-D quadratic most proposals are near the minimum', () => {
    const proposed = run(tpeSampler(), line, 'Minimize', (p) => ((p.x as number) - 3.7) ** 2, 60);
    const early = share(proposed.slice(0, 10), near(3.7, 3));
    const late = share(proposed.slice(40), near(3.7, 3));
    assert.ok(late >= 0.65 && late > early, `${late} of the last 20 within 3 of the minimum, against ${early} of the random first 10 and 0.3 expected at random`);
    assert.ok(Math.min(...proposed.map((p) => Math.abs((p.x as number) - 3.7))) < 0.05);
  });

  it('maximises as well: the same bowl upside down draws the proposals to its top', () => {
    const proposed = run(tpeSampler(), line, 'Maximize', (p) => -(((p.x as number) - 3.7) ** 2), 60);
    const late = share(proposed.slice(40), near(3.7, 3));
    assert.ok(late >= 0.65, `${late} of the last 20 within 3 of the maximum`);
  });

  it('focuses on log, integer and categorical ranges too', () => {
    const space: SearchSpace = [
      { kind: 'Continuous', name: 'lr', min: 1e-6, max: 1, scaling: 'Logarithmic' },
      { kind: 'Integer', name: 'units', min: 1, max: 100, scaling: 'Linear' },
      { kind: 'Categorical', name: 'optimizer', values: ['sgd', 'adam', 'rmsprop', 'adagrad'] },
    ];
    const loss = (p: ParameterValues) => (Math.log10(p.lr as number) + 3) ** 2 + (((p.units as number) - 42) / 10) ** 2 + (p.optimizer === 'adam' ? 0 : 3);
    const late = run(tpeSampler(), space, 'Minimize', loss, 80).slice(50);
    assert.ok(share(late, (p) => p.optimizer === 'adam') > 0.7, 'adam');
    assert.ok(share(late, (p) => Math.abs(Math.log10(p.lr as number) + 3) < 1) > 0.6, 'lr within a decade of 1e-3');
    assert.ok(share(late, (p) => Math.abs((p.units as number) - 42) <= 15) > 0.6, 'units near 42');
    assert.ok(late.every((p) => Number.isInteger(p.units)));
  });

  const scattered = Array.from({ length: 20 }, (_, i) => complete(i, { x: -9.5 + i }, (-9.5 + i - 5) ** 2));

  it('ranks pruned trials after complete ones, however good their last value (Optuna)', () => {
    const prunedGreat = Array.from({ length: 3 }, (_, i): TrialRecord => ({ number: 20 + i, params: { x: -5 + i / 10 }, state: 'pruned', intermediate: [3, 0.01] }));
    const proposed = proposals(tpeSampler(), line, [...scattered, ...prunedGreat]);
    assert.ok(share(proposed, near(5, 2.5)) > 0.6, 'towards the best complete trials');
    assert.ok(share(proposed, near(-5, 1)) < 0.1, 'away from the pruned ones');
    const asIfComplete = prunedGreat.map((trial) => complete(trial.number, trial.params, 0.01));
    assert.ok(share(proposals(tpeSampler(), line, [...scattered, ...asIfComplete]), near(-5, 1.5)) > 0.5, 'had they completed, they would lead');
  });

  it('ranks pruned trials that got further ahead of those stopped sooner', () => {
    const far = Array.from({ length: 3 }, (_, i): TrialRecord => ({ number: i, params: { x: 6 + i / 10 }, state: 'pruned', intermediate: [9, 9, 9] }));
    const soon = Array.from({ length: 27 }, (_, i): TrialRecord => ({ number: 3 + i, params: { x: -6 - i / 10 }, state: 'pruned', intermediate: [0.1] }));
    assert.ok(share(proposals(tpeSampler(), line, [...far, ...soon]), near(6, 3)) > 0.6);
  });

  it('ignores failed trials, and running ones unless it is a constant liar', () => {
    const sampler = tpeSampler();
    const base = proposals(sampler, line, scattered, 10);
    const failed: TrialRecord = { number: 20, params: { x: 5 }, state: 'failed', intermediate: [] };
    const running: TrialRecord = { number: 21, params: { x: 5 }, state: 'running', intermediate: [1] };
    assert.deepEqual(proposals(sampler, line, [...scattered, failed, running], 10), base);
  });

  it('as a constant liar steers parallel proposals away from trials still running there', () => {
    const best = scattered.filter((trial) => Math.abs((trial.params.x as number) - 5) <= 1.5);
    const running = Array.from({ length: 6 }, (_, i): TrialRecord => ({ number: 20 + i, params: { x: 4.5 + i * 0.2 }, state: 'running', intermediate: [] }));
    const history = [...scattered, ...best.map((trial, i) => complete(30 + i, trial.params, trial.value!)), ...running];
    const honest = share(proposals(tpeSampler(), line, history), near(5, 0.7));
    const liar = share(proposals(tpeSampler({ constantLiar: true }), line, history), near(5, 0.7));
    assert.ok(liar < honest, `${liar} with the liar against ${honest} without`);
  });

  it('gives the same proposal whatever order the history comes in', () => {
    const shuffled = [...scattered].reverse();
    assert.deepEqual(proposals(tpeSampler(), line, shuffled, 5), proposals(tpeSampler(), line, scattered, 5));
  });

  it('uses trials that lack a parameter for the parameters they have (warm start by transfer learning)', () => {
    const space: SearchSpace = [...line, { kind: 'Categorical', name: 'optimizer', values: ['sgd', 'adam'] }];
    const partial = scattered.map((trial) => ({ ...trial, params: { x: trial.params.x } }));
    for (const proposal of proposals(tpeSampler(), space, partial, 20)) {
      assert.ok(['sgd', 'adam'].includes(proposal.optimizer as string));
      assert.equal(typeof proposal.x, 'number');
    }
    assert.ok(share(proposals(tpeSampler(), space, partial), near(5, 2.5)) > 0.6);
  });

  it('gives a constant range its value', () => {
    const space: SearchSpace = [...line, { kind: 'Continuous', name: 'dropout', min: 0.5, max: 0.5, scaling: 'Linear' }];
    const history = scattered.map((trial) => ({ ...trial, params: { ...trial.params, dropout: 0.5 } }));
    assert.ok(proposals(tpeSampler(), space, history, 5).every((p) => p.dropout === 0.5));
  });
});
