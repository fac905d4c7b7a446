import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { bracketCount, bracketOf, hyperbandPruner, inferMaxResource, type HyperbandOptions } from './hyperband-pruner.ts';
import type { ObjectiveType, TrialRecord } from './search-space.ts';
import type { Pruner } from './strategy.ts';

const options: HyperbandOptions = { minResource: 1, maxResource: 9, reductionFactor: 3, seed: 0 };

/** The first trial numbers that fall in `bracket`. */
function numbersIn(bracket: number, count: number): number[] {
  const numbers: number[] = [];
  for (let number = 0; numbers.length < count; number++) if (bracketOf(number, options) === bracket) numbers.push(number);
  return numbers;
}

/** Runs the trials in order, each judged after every epoch, and says at which epoch each was stopped. */
function stoppedAt(pruner: Pruner, trials: readonly { number: number; curve: readonly number[] }[], objective: ObjectiveType): (number | undefined)[] {
  const history: TrialRecord[] = [];
  return trials.map(({ number, curve }) => {
    let stopped: number | undefined;
    for (let epoch = 1; epoch <= curve.length && stopped === undefined; epoch++) {
      if (pruner.shouldPrune({ number, params: {}, state: 'running', intermediate: curve.slice(0, epoch) }, history, objective)) stopped = epoch;
    }
    history.push({ number, params: {}, intermediate: curve.slice(0, stopped ?? curve.length), ...(stopped === undefined ? { state: 'complete', value: curve.at(-1) } : { state: 'pruned' }) });
    return stopped;
  });
}

const rest = [2, 2, 2, 2, 2, 2];

describe('Hyperband brackets', () => {
  it('has floor(log_η(max / min)) + 1 brackets', () => {
    const cases: [number, number, number, number][] = [
      [1, 9, 3, 3],
      [1, 8, 3, 2],
      [1, 27, 3, 4],
      [1, 1, 3, 1],
      [3, 81, 3, 4],
      [1, 100, 3, 5],
      [2, 16, 2, 4],
    ];
    for (const [minResource, maxResource, reductionFactor, expected] of cases) {
      assert.equal(bracketCount({ minResource, maxResource, reductionFactor }), expected, `${minResource}..${maxResource} by ${reductionFactor}`);
    }
  });

  it('spreads trials over the brackets in proportion to their budgets (9, 5 and 3 for 1..9 by 3), the same way every time', () => {
    const counts = [0, 0, 0];
    for (let number = 0; number < 17_000; number++) counts[bracketOf(number, options)]++;
    for (const [bracket, budget] of [9, 5, 3].entries()) assert.ok(Math.abs(counts[bracket] / 17_000 - budget / 17) < 0.015, `bracket ${bracket}: ${counts}`);
    assert.equal(bracketOf(12, options), bracketOf(12, { ...options }));
    assert.notDeepEqual(
      Array.from({ length: 20 }, (_, n) => bracketOf(n, options)),
      Array.from({ length: 20 }, (_, n) => bracketOf(n, { ...options, seed: 1 })),
    );
  });
});

describe('hyperbandPruner', () => {
  const [a, b, c, d, e, f] = numbersIn(0, 6);
  const [g, h] = numbersIn(1, 2);
  const [k] = numbersIn(2, 1);
  const bracketZero = [
    // The first of its bracket is the best so far at every rung and runs to the end.
    { number: a, curve: [5, 4, 3, ...rest] },
    // At epoch 1, fewer than η trials have competed: only the best goes on.
    { number: b, curve: [6, 1, 1, ...rest] },
    { number: c, curve: [4, 3.5, 2.5, ...rest] },
    // Four at epoch 1: the best 4 div 3 = 1 goes on, and 4.5 is not it.
    { number: d, curve: [4.5, 4, 3.2, ...rest] },
    { number: e, curve: [4.8, 1, 1, ...rest] },
    // Six at epoch 1: the best two (4 and 4.2) go on; at epoch 3 it meets 3 and 2.5, and only the best of three goes on.
    { number: f, curve: [4.2, 3, 2.8, ...rest] },
  ];
  const expectations: [string, { number: number; curve: number[] }[], (number | undefined)[]][] = [
    ['bracket 0 is judged at epochs 1 and 3, keeping the best third', bracketZero, [undefined, 1, undefined, 1, 1, 3]],
    [
      'bracket 1 is judged first at epoch 3, and only against its own trials',
      [...bracketZero, { number: g, curve: [9, 9, 2.6, ...rest] }, { number: h, curve: [0.1, 0.1, 2.7, ...rest] }],
      [undefined, 1, undefined, 1, 1, 3, undefined, 3],
    ],
    ['bracket 2 starts at MaxResource: nothing in it is ever stopped', [...bracketZero, { number: k, curve: [99, 99, 99, 99, 99, 99, 99, 99, 99] }], [undefined, 1, undefined, 1, 1, 3, undefined]],
    ['a trial whose loss went NaN stops at its next rung, even alone in its bracket', [{ number: a, curve: [5, NaN, NaN, ...rest] }, { number: g, curve: [1, NaN, NaN, ...rest] }], [3, 3]],
  ];
  for (const [what, trials, expected] of expectations) {
    it(`Minimize: ${what}`, () => assert.deepEqual(stoppedAt(hyperbandPruner(options), trials, 'Minimize'), expected));
    it(`Maximize: ${what}`, () => {
      const mirrored = trials.map((trial) => ({ ...trial, curve: trial.curve.map((v) => -v) }));
      assert.deepEqual(stoppedAt(hyperbandPruner(options), mirrored, 'Maximize'), expected);
    });
  }

  it('never stops a trial before MinResource epochs', () => {
    const pruner = hyperbandPruner({ ...options, minResource: 3, maxResource: 27 });
    const numbers = Array.from({ length: 40 }, (_, n) => n).filter((n) => bracketOf(n, { ...options, minResource: 3, maxResource: 27 }) === 0);
    const stops = stoppedAt(pruner, numbers.map((number, i) => ({ number, curve: Array.from({ length: 27 }, () => 10 - i) })).reverse(), 'Minimize');
    assert.ok(stops.every((epoch) => epoch === undefined || epoch >= 3), `${stops}`);
    assert.ok(stops.some((epoch) => epoch === 3));
  });

  const refused: [string, Partial<HyperbandOptions> & { maxResource: number }, string][] = [
    ['MaxResource of 0', { maxResource: 0 }, 'HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig.MaxResource'],
    ['MaxResource over 20,000', { maxResource: 20_001 }, 'HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig.MaxResource'],
    ['MinResource above MaxResource', { minResource: 10, maxResource: 9 }, 'HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig.MinResource'],
    ['a fractional MinResource', { minResource: 1.5, maxResource: 9 }, 'HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig.MinResource'],
    ['a reduction factor of 1', { maxResource: 9, reductionFactor: 1 }, 'reductionFactor'],
  ];
  for (const [what, settings, field] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => hyperbandPruner(settings),
        (error: unknown) => error instanceof DomainError && error.code === 'ValidationError' && error.details.field === field,
      );
    });
  }
});

describe('inferMaxResource', () => {
  it('reads the epochs from the static hyperparameters as SageMaker does', () => {
    assert.equal(inferMaxResource({ epochs: '20', batch_size: '64' }), 20);
    assert.equal(inferMaxResource({ num_epochs: '"15"' }), 15);
    assert.equal(inferMaxResource({ 'n-epochs': '7' }), 7);
    assert.equal(inferMaxResource({ epochs: 'many', n_epochs: '12' }), 12);
    assert.equal(inferMaxResource({ batch_size: '64' }), undefined);
  });
});
