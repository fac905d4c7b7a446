import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { medianPruner } from './median-pruner.ts';
import type { ObjectiveType, TrialRecord } from './search-space.ts';
import type { Pruner } from './strategy.ts';

/**
 * Runs the curves in order, one trial at a time, each judged after every epoch as a tuning job
 * judges it, and says at which epoch each was stopped (undefined: it ran to the end).
 */
function stoppedAt(pruner: Pruner, curves: readonly (readonly number[])[], objective: ObjectiveType): (number | undefined)[] {
  const history: TrialRecord[] = [];
  return curves.map((curve, number) => {
    let stopped: number | undefined;
    for (let epoch = 1; epoch <= curve.length && stopped === undefined; epoch++) {
      const trial: TrialRecord = { number, params: {}, state: 'running', intermediate: curve.slice(0, epoch) };
      if (pruner.shouldPrune(trial, history, objective)) stopped = epoch;
    }
    const intermediate = curve.slice(0, stopped ?? curve.length);
    history.push({ number, params: {}, intermediate, ...(stopped === undefined ? { state: 'complete', value: curve.at(-1) } : { state: 'pruned' }) });
    return stopped;
  });
}

// Running averages of the three first curves: epoch 2 → 0.9, 1.05, 0.8 (median 0.9); epoch 3 → 0.8, 0.933, 0.7 (median 0.8); epoch 4 → 0.725, 0.85, 0.625 (median 0.725).
const first = [
  [1.0, 0.8, 0.6, 0.5],
  [1.2, 0.9, 0.7, 0.6],
  [0.9, 0.7, 0.5, 0.4],
];

describe('medianPruner (SageMaker early stopping Auto)', () => {
  const cases: [string, number[][], (number | undefined)[], object?][] = [
    ['the first three trials are never judged: there is no median yet', first, [undefined, undefined, undefined]],
    ['a trial worse than the median of running averages at epoch 2 stops there', [...first, [2.0, 0.95, 0.5, 0.3]], [undefined, undefined, undefined, 2]],
    ['epoch 1 is never judged, however bad', [...first, [99, 0.85, 0.75, 0.7]], [undefined, undefined, undefined, undefined]],
    ['a value equal to the median goes on', [[4, 4, 4], [6, 6, 6], [8, 8, 8], [1, 6, 6]], [undefined, undefined, undefined, undefined]],
    ['a value just worse than the median stops', [[4, 4, 4], [6, 6, 6], [8, 8, 8], [1, 6, 6.5]], [undefined, undefined, undefined, 3]],
    ['a trial that keeps up until it falls behind at epoch 4 stops at 4', [...first, [2.0, 0.85, 0.79, 0.75]], [undefined, undefined, undefined, 4]],
    [
      "the trial's current value is judged, not its own average: a bad first epoch does not count against it",
      [...first, [5.0, 0.85, 0.75, 0.7]],
      [undefined, undefined, undefined, undefined],
    ],
    ['a trial whose loss went NaN stops', [...first, [1.0, NaN, 0.5, 0.4]], [undefined, undefined, undefined, 2]],
    [
      'a stopped trial still counts at the epochs it reached, and only at those',
      [...first, [2.0, 0.95], [0.9, 0.8, 0.9, 0.9]],
      // Epoch 3 of the last one: averages 0.8, 0.933, 0.7 and nothing from the trial stopped at 2: median 0.8, and 0.9 is worse.
      [undefined, undefined, undefined, 2, 3],
    ],
    [
      'with two earlier trials at an epoch there is no judging yet',
      [[1, 1], [1, 1], [5, 5, 5], [1, 9, 9]],
      [undefined, undefined, undefined, 2],
    ],
    ['warm-up and trial count are options', [[1, 1], [3, 3]], [undefined, 1], { minTrials: 1, warmupEpochs: 0 }],
  ];
  for (const [what, curves, expected, options] of cases) {
    it(`Minimize: ${what}`, () => assert.deepEqual(stoppedAt(medianPruner(options), curves, 'Minimize'), expected));
    it(`Maximize: ${what}`, () => assert.deepEqual(stoppedAt(medianPruner(options), curves.map((curve) => curve.map((v) => -v)), 'Maximize'), expected));
  }

  it('judges against earlier trials only, not ones proposed after it', () => {
    const later: TrialRecord[] = [5, 6, 7].map((number) => ({ number, params: {}, state: 'complete', intermediate: [0.1, 0.1, 0.1], value: 0.1 }));
    const trial: TrialRecord = { number: 4, params: {}, state: 'running', intermediate: [9, 9] };
    assert.equal(medianPruner().shouldPrune(trial, later, 'Minimize'), false);
    assert.equal(medianPruner().shouldPrune({ ...trial, number: 8 }, later, 'Minimize'), true);
  });
});
