import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideProvisionedPlan,
  initialProvisionedPlanState,
  type ProvisionedConcurrencyStatus,
  type ProvisionedEnvironments,
  type ProvisionedPlanState,
} from './provisioned-plan.ts';

const settings = { maxConsecutiveInitFailures: 3, initRetryDelayMs: 10_000 };
const envs = (ready: number, initialising = 0, failed = 0, lastInitError?: string): ProvisionedEnvironments => ({
  ready,
  initialising,
  failed,
  ...(lastInitError === undefined ? {} : { lastInitError }),
});

describe('decideProvisionedPlan: one step', () => {
  type Expected = { status: ProvisionedConcurrencyStatus; start: number; stop: number; allocated: number; available: number };
  const cases: [string, number, ProvisionedEnvironments, Expected][] = [
    ['a new config starts every environment', 3, envs(0), { status: 'IN_PROGRESS', start: 3, stop: 0, allocated: 0, available: 0 }],
    ['environments initialising are not started again', 3, envs(1, 2), { status: 'IN_PROGRESS', start: 0, stop: 0, allocated: 3, available: 1 }],
    ['ready once the requested number are ready', 3, envs(3), { status: 'READY', start: 0, stop: 0, allocated: 3, available: 3 }],
    ['a lower request stops the surplus', 2, envs(3, 1), { status: 'READY', start: 0, stop: 2, allocated: 2, available: 2 }],
    ['a lost environment is replaced', 3, envs(2), { status: 'IN_PROGRESS', start: 1, stop: 0, allocated: 2, available: 2 }],
  ];
  for (const [name, requested, observed, expected] of cases) {
    it(name, () => {
      const { status, start, stop, allocated, available } = decideProvisionedPlan(requested, observed, initialProvisionedPlanState(), 0, settings);
      assert.deepEqual({ status, start, stop, allocated, available }, expected);
    });
  }
});

describe('decideProvisionedPlan: over time, with a fake clock', () => {
  function run(requested: number, steps: [number, ProvisionedEnvironments][]) {
    let state: ProvisionedPlanState = initialProvisionedPlanState();
    return steps.map(([nowMs, observed]) => {
      const plan = decideProvisionedPlan(requested, observed, state, nowMs, settings);
      state = plan.nextState;
      return [plan.status, plan.start] as const;
    });
  }

  it('a failed initialisation waits before its replacement starts', () => {
    assert.deepEqual(
      run(2, [
        [0, envs(0)],
        [1_000, envs(1, 0, 1)],
        [5_000, envs(1)],
        [11_000, envs(1)],
        [12_000, envs(2)],
      ]),
      [
        ['IN_PROGRESS', 2],
        ['IN_PROGRESS', 0],
        ['IN_PROGRESS', 0],
        ['IN_PROGRESS', 1],
        ['READY', 0],
      ],
    );
  });

  it('fails after three initialisation failures in a row, and stays failed', () => {
    let state: ProvisionedPlanState = initialProvisionedPlanState();
    const observations: [number, ProvisionedEnvironments][] = [
      [0, envs(0)],
      [1_000, envs(0, 0, 2, 'Error: Cannot find module')],
      [20_000, envs(0)],
      [21_000, envs(0, 0, 1, "Error: Cannot find module 'sharp'")],
      [40_000, envs(0)],
    ];
    const statuses = observations.map(([nowMs, observed]) => {
      const plan = decideProvisionedPlan(2, observed, state, nowMs, settings);
      state = plan.nextState;
      return plan;
    });
    assert.deepEqual(
      statuses.map((plan) => [plan.status, plan.start]),
      [
        ['IN_PROGRESS', 2],
        ['IN_PROGRESS', 0],
        ['IN_PROGRESS', 2],
        ['FAILED', 0],
        ['FAILED', 0],
      ],
    );
    assert.equal(
      statuses[3].statusReason,
      "Provisioned environments failed to initialise 3 times in a row (last error: Error: Cannot find module 'sharp'). Fix the function's initialisation code, then put the provisioned concurrency config again.",
    );
    assert.equal(statuses[4].statusReason, statuses[3].statusReason);
  });

  it('an environment becoming ready resets the failure count', () => {
    assert.deepEqual(
      run(3, [
        [0, envs(0)],
        [1_000, envs(0, 1, 2)],
        [20_000, envs(1, 0)],
        [21_000, envs(1, 0, 2)],
      ]).map(([status]) => status),
      ['IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS'],
    );
  });
});
