import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideTargetTracking, type Datapoint, type ScalableTarget, type TargetTrackingPolicy } from './target-tracking.ts';

const MINUTE = 60_000;
const NOW = 100 * MINUTE;
/** The reference workload: 1 to 5 instances, 30 s cooldowns, a target of 100 invocations per instance per minute. */
const policy: TargetTrackingPolicy = { targetValue: 100, scaleOutCooldownSeconds: 30, scaleInCooldownSeconds: 30, disableScaleIn: false };
const target = (patch: Partial<ScalableTarget> = {}): ScalableTarget => ({ minCapacity: 1, maxCapacity: 5, desired: 1, healthy: 1, ...patch });
/** The last `values.length` one-minute periods, oldest first, ending just before NOW. */
const periods = (...values: number[]): Datapoint[] => values.map((value, index) => ({ atMs: NOW - (values.length - index) * MINUTE, value }));
const steady = (value: number, count: number) => periods(...Array<number>(count).fill(value));

type Expected = ['none'] | ['scale-out' | 'scale-in', number];

const cases: [string, ScalableTarget, Datapoint[], Expected, Partial<TargetTrackingPolicy>?][] = [
  ['a 5× spike scales 1 → 5 once three periods are above target', target(), periods(100, 500, 500, 500), ['scale-out', 5]],
  ['two periods above target are not enough (scale-out waits for 3 of 3)', target(), periods(90, 90, 500, 500), ['none']],
  ['desired is ceil(instances × metric / target): 2 × 130 / 100 → 3', target({ desired: 2, healthy: 2 }), steady(130, 3), ['scale-out', 3]],
  ['clamped to the maximum: 1 × 900 / 100 → 5, not 9', target(), steady(900, 3), ['scale-out', 5]],
  ['at the maximum, more load changes nothing', target({ desired: 5, healthy: 5 }), steady(400, 3), ['none']],
  ['a steady metric at its target never moves', target({ desired: 3, healthy: 3 }), steady(100, 20), ['none']],
  ['a steady metric just under target (above 90%) never scales in', target({ desired: 3, healthy: 3 }), steady(91, 20), ['none']],
  ['scale-in needs 15 low periods in a row', target({ desired: 5, healthy: 5 }), periods(...Array<number>(14).fill(10), 120), ['none']],
  ['15 low periods scale in: 5 × 20 / 100 → 1', target({ desired: 5, healthy: 5 }), steady(20, 15), ['scale-in', 1]],
  ['scale-in is clamped to the minimum', target({ minCapacity: 2, desired: 5, healthy: 5 }), steady(1, 15), ['scale-in', 2]],
  ['scale-in is blocked in its cooldown', target({ desired: 4, healthy: 4, lastScaleIn: { atMs: NOW - 10_000 } }), steady(20, 15), ['none']],
  ['scale-in goes on after its cooldown', target({ desired: 4, healthy: 4, lastScaleIn: { atMs: NOW - 31_000 } }), steady(20, 15), ['scale-in', 1]],
  ['a scale-out may happen during a scale-in cooldown', target({ desired: 2, healthy: 2, lastScaleIn: { atMs: NOW - 5_000 } }), steady(200, 3), ['scale-out', 4]],
  [
    'during a scale-out cooldown, no second scale-out that asks for no more than the first',
    target({ desired: 3, healthy: 1, lastScaleOut: { atMs: NOW - 10_000, desired: 3 } }),
    steady(300, 3),
    ['none'],
  ],
  [
    'during a scale-out cooldown, a second scale-out that asks for more',
    target({ desired: 3, healthy: 3, lastScaleOut: { atMs: NOW - 10_000, desired: 3 } }),
    steady(150, 3),
    ['scale-out', 5],
  ],
  [
    'instances still starting do not count: 1 healthy of 3 at 250 per instance still asks for 3',
    target({ desired: 3, healthy: 1, lastScaleOut: { atMs: NOW - 45_000, desired: 3 } }),
    steady(250, 3),
    ['none'],
  ],
  ['no scale-in while instances are still starting', target({ desired: 3, healthy: 2 }), steady(10, 15), ['none']],
  ['no scale-in when it is disabled', target({ desired: 3, healthy: 3 }), steady(10, 15), ['none'], { disableScaleIn: true }],
  ['a desired count below the minimum is raised to it', target({ minCapacity: 2, desired: 1, healthy: 1 }), [], ['scale-out', 2]],
  ['a desired count above the maximum is lowered to it', target({ maxCapacity: 3, desired: 5, healthy: 5 }), [], ['scale-in', 3]],
  ['no datapoints, no decision', target(), [], ['none']],
];

describe('decideTargetTracking', () => {
  for (const [name, state, window, expected, patch] of cases) {
    it(name, () => {
      const decision = decideTargetTracking(state, { ...policy, ...patch }, window, NOW);
      assert.equal(decision.kind, expected[0], JSON.stringify(decision));
      if (decision.kind !== 'none') assert.equal(decision.to, expected[1]);
    });
  }

  it('says why it scaled, with the datapoints', () => {
    const decision = decideTargetTracking(target(), policy, steady(500, 3), NOW);
    assert.deepEqual(decision, { kind: 'scale-out', from: 1, to: 5, cause: 'the metric was above the target 100 for 3 datapoints (500, 500, 500)' });
  });

  it('runs the reference scenario on a fake clock: up with the spike, down after it, never past the bounds', () => {
    // One period per minute: 10 quiet, 20 at 5×, 30 quiet. Instances take a minute to become healthy.
    const load = [...Array<number>(10).fill(80), ...Array<number>(20).fill(400), ...Array<number>(30).fill(80)];
    let state = target();
    let pending: { healthyAtMs: number; count: number } | undefined;
    const counts: number[] = [];
    const window: Datapoint[] = [];
    for (const [minute, total] of load.entries()) {
      const now = (minute + 1) * MINUTE;
      if (pending && now >= pending.healthyAtMs) {
        state = { ...state, healthy: pending.count };
        pending = undefined;
      }
      window.push({ atMs: minute * MINUTE, value: total / state.healthy });
      const decision = decideTargetTracking(state, policy, window, now);
      if (decision.kind === 'scale-out') {
        state = { ...state, desired: decision.to, lastScaleOut: { atMs: now, desired: decision.to } };
        pending = { healthyAtMs: now + MINUTE, count: decision.to };
      } else if (decision.kind === 'scale-in') {
        state = { ...state, desired: decision.to, healthy: decision.to, lastScaleIn: { atMs: now } };
      }
      counts.push(state.desired);
    }
    assert.equal(Math.max(...counts), 4, 'the spike needs ceil(400 / 100) = 4 instances');
    assert.equal(counts.indexOf(4), 12, 'scaled out on the third minute of the spike');
    assert.ok(counts.slice(13, 30).every((count) => count === 4), 'held through the spike, without flapping');
    assert.equal(counts.at(-1), 1, 'back to one instance after the spike');
    assert.equal(counts.indexOf(1, 30), 44, 'scaled in after 15 quiet minutes');
  });
});
