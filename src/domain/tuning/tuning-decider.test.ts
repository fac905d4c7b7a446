import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pruner } from './strategy.ts';
import { bestTrial, decideTuningJob, trialRecord, type TrialView, type TuningAction } from './tuning-decider.ts';
import type { TuningJob } from './tuning-job.ts';

const job = (patch: Partial<TuningJob['spec']> = {}, record: Partial<TuningJob> = {}): TuningJob => ({
  name: 'tune',
  spec: {
    strategy: 'Bayesian',
    objective: { type: 'Minimize', metricName: 'validation:loss' },
    ranges: [{ kind: 'Continuous', name: 'learning_rate', min: 0.001, max: 0.1, scaling: 'Logarithmic' }],
    maxNumberOfTrainingJobs: 4,
    maxParallelTrainingJobs: 2,
    earlyStopping: 'Off',
    randomSeed: 1,
    template: {
      trainingImage: 'kennel/image-classifier:latest',
      trainingInputMode: 'File',
      roleArn: 'arn:aws:iam::000000000000:role/R',
      staticHyperParameters: {},
      channels: [],
      outputPath: 's3://b/',
      instanceType: 'ml.m5.large',
      instanceCount: 1,
      volumeSizeInGB: 1,
      metricDefinitions: [],
    },
    ...patch,
  },
  tags: [],
  status: 'InProgress',
  trials: [],
  createdAtMs: 0,
  lastModifiedAtMs: 0,
  ...record,
});

let number = 0;
const trial = (status: TrialView['status'], final?: number, intermediate: number[] = [], earlyStopped = false): TrialView => {
  const n = number++;
  return {
    entry: { number: n, trainingJobName: `tune-${n}`, hyperParameters: { learning_rate: '0.01' }, createdAtMs: 0, ...(earlyStopped ? { earlyStopped } : {}) },
    params: { learning_rate: 0.01 },
    status,
    intermediate,
    ...(final !== undefined ? { final } : {}),
  };
};

const never: Pruner = { shouldPrune: () => false };
const always: Pruner = { shouldPrune: () => true };

describe('decideTuningJob', () => {
  const cases: [string, TuningJob, TrialView[], number, Pruner | undefined, TuningAction[]][] = [
    ['a new job launches as many trials as it may run at once', job(), [], 10, never, [{ kind: 'launch', count: 2 }]],
    ['the machine’s free slots bound the launch', job(), [], 1, never, [{ kind: 'launch', count: 1 }]],
    ['no free slot: wait', job(), [], 0, never, []],
    ['a finished trial frees its place', job(), [trial('Completed', 0.5), trial('InProgress')], 10, never, [{ kind: 'launch', count: 1 }]],
    ['the budget bounds the launch', job({ maxNumberOfTrainingJobs: 3 }), [trial('Completed', 0.5), trial('Completed', 0.4)], 10, never, [{ kind: 'launch', count: 1 }]],
    ['the last trials running: wait', job(), [trial('Completed', 0.5), trial('Failed'), trial('InProgress'), trial('InProgress')], 10, never, []],
    ['the budget spent and nothing running: Completed', job(), [trial('Completed', 0.5), trial('Failed'), trial('Stopped', 0.7, [], true), trial('Completed', 0.2)], 10, never, [{ kind: 'finish', status: 'Completed' }]],
    [
      'every trial failed: Failed',
      job({ maxNumberOfTrainingJobs: 2 }),
      [trial('Failed'), trial('Failed')],
      10,
      never,
      [{ kind: 'finish', status: 'Failed', failureReason: 'No training job of the tuning job reported the objective metric; see the training jobs’ FailureReason' }],
    ],
    ['a trial recorded but never created is created', job(), [trial('Pending'), trial('InProgress')], 10, never, [{ kind: 'create-trial-jobs', trials: [] }]],
    ['early stopping Auto stops what the pruner judges hopeless', job({ earlyStopping: 'Auto' }), [trial('InProgress', undefined, [0.9]), trial('InProgress')], 10, always, [{ kind: 'early-stop', trainingJobNames: [] }]],
    ['early stopping Off never stops a trial', job({ earlyStopping: 'Off' }), [trial('InProgress', undefined, [0.9]), trial('InProgress', undefined, [0.8])], 10, always, []],
    ['the target objective reached: no more trials', job({ targetObjectiveValue: 0.3 }), [trial('Completed', 0.25), trial('InProgress')], 10, never, []],
    ['the target reached and nothing running: Completed', job({ targetObjectiveValue: 0.3 }), [trial('Completed', 0.25)], 10, never, [{ kind: 'finish', status: 'Completed' }]],
    ['a stop request stops the running trials', job({}, { status: 'Stopping', stopRequest: { atMs: 0 } }), [trial('InProgress'), trial('Stopping'), trial('Completed', 1)], 10, never, [{ kind: 'stop-trials', trainingJobNames: [] }]],
    ['a stop request with nothing running: Stopped', job({}, { status: 'Stopping', stopRequest: { atMs: 0 } }), [trial('Stopped'), trial('Completed', 1)], 10, never, [{ kind: 'finish', status: 'Stopped' }]],
    ['a finished job decides nothing', job({}, { status: 'Completed' }), [trial('InProgress')], 10, never, []],
  ];
  for (const [what, tuning, trials, freeSlots, pruner, expected] of cases) {
    it(what, () => {
      const actions = decideTuningJob(tuning, { trials, freeSlots }, pruner);
      // Names and entries come from the trials: fill them in from the cases' own trials.
      const filled = expected.map((action) => {
        if (action.kind === 'create-trial-jobs') return { ...action, trials: trials.filter((t) => t.status === 'Pending').map((t) => t.entry) };
        if (action.kind === 'early-stop') return { ...action, trainingJobNames: trials.filter((t) => t.status === 'InProgress' && t.intermediate.length > 0).map((t) => t.entry.trainingJobName) };
        if (action.kind === 'stop-trials') return { ...action, trainingJobNames: trials.filter((t) => t.status === 'InProgress').map((t) => t.entry.trainingJobName) };
        return action;
      });
      assert.deepEqual(actions, filled);
    });
  }
});

describe('trialRecord and bestTrial', () => {
  it('tells the strategies which trials run, finished, were pruned or failed', () => {
    assert.deepEqual(
      [trial('Pending'), trial('Stopping'), trial('Completed', 1), trial('Stopped', 2, [3, 2], true), trial('Failed'), trial('Stopped')].map((t) => trialRecord(t).state),
      ['running', 'running', 'complete', 'pruned', 'failed', 'failed'],
    );
  });

  it('picks the best final objective for Minimize and Maximize, ignoring trials without one', () => {
    const trials = [{ final: 0.5 }, {}, { final: 0.2 }, { final: Number.NaN }, { final: 0.9 }];
    assert.equal(bestTrial(trials, 'Minimize'), trials[2]);
    assert.equal(bestTrial(trials, 'Maximize'), trials[4]);
    assert.equal(bestTrial([{}], 'Minimize'), undefined);
  });
});
