import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proposalRandom } from './proposal-random.ts';
import type { ParameterValues, SearchSpace, TrialRecord } from './search-space.ts';
import { strategyFor } from './strategies.ts';
import type { TuningStrategy } from './ranges.ts';
import { NOISY_QUADRATIC } from './test-functions.ts';

const space: SearchSpace = NOISY_QUADRATIC.space;

/** A tuning job run one trial at a time up to `trials`, carrying on after the trials already in `history`; each result is a pure function of the values. */
function tune(strategy: TuningStrategy, seed: number, trials: number, history: TrialRecord[] = []): ParameterValues[] {
  const { sampler } = strategyFor(strategy, { maxNumberOfTrainingJobs: trials });
  const done = [...history];
  for (let number = done.length; number < trials; number++) {
    const params = sampler.propose(space, done, 'Minimize', proposalRandom(seed, number))!;
    const value = NOISY_QUADRATIC.evaluate(params);
    done.push({ number, params, state: 'complete', intermediate: [value], value });
  }
  return done.map((trial) => trial.params);
}

const asHistory = (proposals: readonly ParameterValues[]): TrialRecord[] =>
  proposals.map((params, number) => {
    const value = NOISY_QUADRATIC.evaluate(params);
    return { number, params, state: 'complete', intermediate: [value], value };
  });

describe('reproducible proposals (RandomSeed)', () => {
  for (const strategy of ['Random', 'Bayesian'] as const) {
    it(`${strategy}: the same seed and the same results give the same proposals`, () => {
      assert.deepEqual(tune(strategy, 42, 25), tune(strategy, 42, 25));
    });

    it(`${strategy}: another seed gives other proposals`, () => {
      const a = tune(strategy, 42, 25);
      const b = tune(strategy, 43, 25);
      assert.ok(a.every((params, i) => JSON.stringify(params) !== JSON.stringify(b[i])));
    });

    it(`${strategy}: a job restarted from its finished trials proposes what it would have without the restart`, () => {
      const uninterrupted = tune(strategy, 7, 25);
      assert.deepEqual(tune(strategy, 7, 25, asHistory(uninterrupted.slice(0, 13))), uninterrupted);
    });
  }

  it('a proposal does not depend on how many numbers earlier proposals drew', () => {
    const a = proposalRandom(5, 3);
    const b = proposalRandom(5, 3);
    proposalRandom(5, 2).next();
    assert.equal(a.next(), b.next());
    assert.notEqual(proposalRandom(5, 3).next(), proposalRandom(5, 4).next());
    assert.notEqual(proposalRandom(5, 3).next(), proposalRandom(6, 3).next());
  });
});
