import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DomainError } from '../core/errors.ts';
import { INVOCATIONS_PER_INSTANCE, SAGEMAKER_NAMESPACE, VARIANT_DIMENSION, type TargetTrackingConfiguration } from '../domain/serving/scaling.ts';
import { AWS_ALARMS } from '../domain/serving/target-tracking.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { testControlDeps } from '../testing/control-deps.ts';
import { AutoscalingReconciler } from './autoscaling-reconciler.ts';
import { AutoscalingService } from './autoscaling.ts';
import type { ControlDeps } from './deps.ts';
import { ServingMetrics } from './serving-metrics.ts';
import type { VariantCapacity, VariantScaling } from './variant-scaling.ts';

const MINUTE = 60_000;
const RESOURCE_ID = 'endpoint/dogs/variant/AllTraffic';
const TARGET = { serviceNamespace: SAGEMAKER_NAMESPACE, resourceId: RESOURCE_ID, scalableDimension: VARIANT_DIMENSION };

/** Endpoint variants as the autoscaler sees them through the port; tests move `healthy` as instances come up. */
class FakeVariants implements VariantScaling {
  readonly variants = new Map<string, VariantCapacity>();
  readonly calls: number[] = [];
  failure: DomainError | undefined;

  constructor() {
    this.variants.set('dogs/AllTraffic', { desired: 1, healthy: 1 });
  }

  get dogs(): VariantCapacity {
    return this.variants.get('dogs/AllTraffic')!;
  }

  capacity(endpointName: string, variantName: string): VariantCapacity | undefined {
    const variant = this.variants.get(`${endpointName}/${variantName}`);
    return variant && { ...variant };
  }

  setDesiredInstances(endpointName: string, variantName: string, count: number): void {
    if (this.failure) throw this.failure;
    this.calls.push(count);
    this.variants.get(`${endpointName}/${variantName}`)!.desired = count;
  }
}

const invocationsPolicy = (patch: Partial<TargetTrackingConfiguration> = {}): TargetTrackingConfiguration => ({
  targetValue: 100,
  metric: { kind: 'predefined', predefinedMetricType: INVOCATIONS_PER_INSTANCE },
  scaleOutCooldownSeconds: 30,
  scaleInCooldownSeconds: 30,
  disableScaleIn: false,
  ...patch,
});

describe('the autoscaler on a fake clock', () => {
  let dir: string;
  let now: number;
  let deps: ControlDeps;
  let variants: FakeVariants;
  let metrics: ServingMetrics;
  let service: AutoscalingService;
  let reconciler: AutoscalingReconciler;

  const setup = (metricPeriodMs = MINUTE) => {
    deps = testControlDeps(dir, createMemoryStore(), { clock: { now: () => now }, autoscaling: { metricPeriodMs, alarms: AWS_ALARMS } });
    variants = new FakeVariants();
    metrics = new ServingMetrics();
    service = new AutoscalingService(deps, variants);
    reconciler = new AutoscalingReconciler(deps, variants, metrics);
  };
  /** `count` invocations of the variant, finished at `atMs`. */
  const traffic = (atMs: number, count: number) => {
    for (let i = 0; i < count; i++) metrics.record({ endpointName: 'dogs', variantName: 'AllTraffic', outcome: 'OK', atMs, modelLatencyMs: 10, computeMs: 10 });
  };
  const reconcileAt = (atMs: number) => {
    now = atMs;
    return reconciler.reconcile(atMs);
  };
  const activities = () => service.describeScalingActivities({ serviceNamespace: SAGEMAKER_NAMESPACE });
  const target = () => service.describeScalableTargets({ serviceNamespace: SAGEMAKER_NAMESPACE })[0]!;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-autoscaler-'));
    now = 10 * MINUTE;
    setup();
  });
  afterEach(async () => {
    await deps.trainers.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('scales out after three complete periods above target, records why, and follows the activity until the instances are healthy', async () => {
    service.registerScalableTarget({ ...TARGET, minCapacity: 1, maxCapacity: 5 });
    service.putScalingPolicy({ ...TARGET, policyName: 'invocations', targetTracking: invocationsPolicy() });
    await reconcileAt(10 * MINUTE);
    for (const minute of [10, 11, 12]) traffic(minute * MINUTE + 5_000, 500);

    // The third period is not complete yet: its invocations so far do not count.
    await reconcileAt(13 * MINUTE - 1);
    assert.deepEqual(variants.calls, []);
    assert.deepEqual(activities(), []);

    await reconcileAt(13 * MINUTE + 1_000);
    assert.deepEqual(variants.calls, [5]);
    const [activity] = activities();
    assert.equal(activity!.statusCode, 'InProgress');
    assert.equal(activity!.description, 'Setting desired instance count to 5.');
    assert.match(activity!.cause, /the metric was above the target 100 for 3 datapoints \(500, 500, 500\)/);
    assert.match(activity!.cause, /^monitor alarm TargetTracking-endpoint\/dogs\/variant\/AllTraffic-AlarmHigh-.+ in state ALARM triggered policy invocations/);
    assert.equal(activity!.startTimeMs, 13 * MINUTE + 1_000);
    assert.deepEqual(target().lastScaleOut, { atMs: 13 * MINUTE + 1_000, desired: 5 });

    // Once per period: a second pass in the same period decides nothing again.
    await reconcileAt(13 * MINUTE + 2_000);
    assert.deepEqual(variants.calls, [5]);

    variants.dogs.healthy = 3;
    await reconcileAt(13 * MINUTE + 20_000);
    assert.equal(activities()[0]!.statusCode, 'InProgress', 'three of five instances are not enough');
    variants.dogs.healthy = 5;
    await reconcileAt(13 * MINUTE + 40_000);
    const [done] = activities();
    assert.equal(done!.statusCode, 'Successful');
    assert.equal(done!.endTimeMs, 13 * MINUTE + 40_000);
    assert.match(done!.statusMessage!, /Successfully set desired instance count to 5/);
  });

  it('scales in after fifteen low periods only once the scale-in cooldown is over', async () => {
    variants.dogs.desired = 4;
    variants.dogs.healthy = 4;
    service.registerScalableTarget({ ...TARGET, minCapacity: 1, maxCapacity: 5 });
    service.putScalingPolicy({ ...TARGET, policyName: 'invocations', targetTracking: invocationsPolicy({ scaleInCooldownSeconds: 20 * 60 }) });
    deps.store.scalableTargets.modify(target().id, (current) => ({ ...current, lastScaleIn: { atMs: 10 * MINUTE } }));
    await reconcileAt(10 * MINUTE);
    for (let minute = 10; minute < 40; minute++) traffic(minute * MINUTE, 80);

    // 15 low periods (20 per instance) by minute 25, but the cooldown runs until minute 30.
    for (let minute = 11; minute <= 29; minute++) await reconcileAt(minute * MINUTE + 1_000);
    assert.deepEqual(variants.calls, []);
    await reconcileAt(30 * MINUTE + 1_000);
    assert.deepEqual(variants.calls, [1], 'ceil(4 × 20 / 100) = 1');
    const [activity] = activities();
    assert.match(activity!.cause, /AlarmLow-.+ in state ALARM triggered policy invocations: the metric was below 90 \(90% of the target 100\) for 15 datapoints/);
    assert.deepEqual(target().lastScaleIn, { atMs: 30 * MINUTE + 1_000 });
  });

  it('does nothing for a target without a policy, nor for one whose endpoint is gone', async () => {
    service.registerScalableTarget({ ...TARGET, minCapacity: 1, maxCapacity: 5 });
    await reconcileAt(10 * MINUTE);
    for (let minute = 10; minute < 20; minute++) traffic(minute * MINUTE, 900);
    for (let minute = 11; minute <= 14; minute++) await reconcileAt(minute * MINUTE + 1_000);
    assert.deepEqual(variants.calls, [], 'no policy, no scaling');

    service.putScalingPolicy({ ...TARGET, policyName: 'invocations', targetTracking: invocationsPolicy() });
    variants.variants.clear();
    for (let minute = 15; minute <= 19; minute++) await reconcileAt(minute * MINUTE + 1_000);
    assert.deepEqual(variants.calls, []);
    assert.deepEqual(activities(), []);
    assert.equal(target().resourceId, RESOURCE_ID, 'the target stays registered');
  });

  it('records a failed activity with the reason when the variant refuses the new count, and retries next period', async () => {
    service.registerScalableTarget({ ...TARGET, minCapacity: 1, maxCapacity: 3 });
    service.putScalingPolicy({ ...TARGET, policyName: 'invocations', targetTracking: invocationsPolicy() });
    await reconcileAt(10 * MINUTE);
    for (let minute = 10; minute < 15; minute++) traffic(minute * MINUTE, 300);
    variants.failure = new DomainError('Conflict', 'Endpoint dogs is Updating');
    await reconcileAt(13 * MINUTE + 1_000);
    const [failed] = activities();
    assert.equal(failed!.statusCode, 'Failed');
    assert.equal(failed!.statusMessage, 'Failed to set desired instance count to 3. Reason: Endpoint dogs is Updating');
    assert.equal(target().lastScaleOut, undefined);

    variants.failure = undefined;
    await reconcileAt(14 * MINUTE + 1_000);
    assert.deepEqual(variants.calls, [3]);
    assert.deepEqual(activities().map((a) => a.statusCode), ['InProgress', 'Failed'], 'newest first');
  });

  it('marks an activity in progress Failed when its endpoint is deleted, and Overridden when the count changes', async () => {
    service.registerScalableTarget({ ...TARGET, minCapacity: 1, maxCapacity: 5 });
    service.putScalingPolicy({ ...TARGET, policyName: 'invocations', targetTracking: invocationsPolicy() });
    await reconcileAt(10 * MINUTE);
    for (let minute = 10; minute < 13; minute++) traffic(minute * MINUTE, 200);
    await reconcileAt(13 * MINUTE + 1_000);
    assert.deepEqual(variants.calls, [2]);
    variants.dogs.desired = 4;
    await reconcileAt(13 * MINUTE + 2_000);
    assert.equal(activities()[0]!.statusCode, 'Overridden');

    for (let minute = 13; minute < 16; minute++) traffic(minute * MINUTE, 1_000);
    await reconcileAt(16 * MINUTE + 1_000);
    assert.equal(activities()[0]!.statusCode, 'InProgress');
    variants.variants.clear();
    await reconcileAt(16 * MINUTE + 2_000);
    assert.equal(activities()[0]!.statusCode, 'Failed');
    assert.match(activities()[0]!.statusMessage!, /no longer exists/);
  });

  it('counts only periods this process observed, so a restart does not read its empty past as low load', async () => {
    variants.dogs.desired = 5;
    variants.dogs.healthy = 5;
    service.registerScalableTarget({ ...TARGET, minCapacity: 1, maxCapacity: 5 });
    service.putScalingPolicy({ ...TARGET, policyName: 'invocations', targetTracking: invocationsPolicy() });
    now = 100 * MINUTE;
    for (let minute = 100; minute < 114; minute++) await reconcileAt(minute * MINUTE + 1_000);
    assert.deepEqual(variants.calls, [], '12 observed periods are not 15');
    await reconcileAt(116 * MINUTE + 1_000);
    assert.deepEqual(variants.calls, [1]);
  });

  it('scales on CPU utilisation: the share of the instances’ time spent running the model', async () => {
    service.registerScalableTarget({ ...TARGET, minCapacity: 1, maxCapacity: 5 });
    service.putScalingPolicy({
      ...TARGET,
      policyName: 'cpu',
      targetTracking: invocationsPolicy({
        targetValue: 50,
        metric: { kind: 'customized', metricName: 'CPUUtilization', namespace: '/aws/sagemaker/Endpoints', statistic: 'Average', dimensions: [] },
      }),
    });
    await reconcileAt(10 * MINUTE);
    // 4,800 requests of 10 ms a minute on one instance: 80% busy, against a target of 50%.
    for (let minute = 10; minute < 13; minute++) traffic(minute * MINUTE, 4_800);
    await reconcileAt(13 * MINUTE + 1_000);
    assert.deepEqual(variants.calls, [2], 'ceil(1 × 80 / 50) = 2');
    assert.match(activities()[0]!.cause, /above the target 50 for 3 datapoints \(80, 80, 80\)/);
  });

  it('with the metric period shortened to one second, scales out within seconds', async () => {
    setup(1_000);
    service.registerScalableTarget({ ...TARGET, minCapacity: 1, maxCapacity: 4 });
    service.putScalingPolicy({ ...TARGET, policyName: 'invocations', targetTracking: invocationsPolicy({ targetValue: 5 }) });
    const start = 50 * MINUTE;
    await reconcileAt(start);
    for (let second = 0; second < 3; second++) traffic(start + second * 1_000 + 100, 10);
    await reconcileAt(start + 2_500);
    assert.deepEqual(variants.calls, []);
    await reconcileAt(start + 3_000);
    assert.deepEqual(variants.calls, [2], 'ceil(1 × 10 / 5) = 2');
  });

  it('takes the largest scale-out any policy asks for', async () => {
    service.registerScalableTarget({ ...TARGET, minCapacity: 1, maxCapacity: 8 });
    service.putScalingPolicy({ ...TARGET, policyName: 'gentle', targetTracking: invocationsPolicy({ targetValue: 200 }) });
    service.putScalingPolicy({ ...TARGET, policyName: 'eager', targetTracking: invocationsPolicy({ targetValue: 100 }) });
    await reconcileAt(10 * MINUTE);
    for (let minute = 10; minute < 13; minute++) traffic(minute * MINUTE, 400);
    await reconcileAt(13 * MINUTE + 1_000);
    assert.deepEqual(variants.calls, [4]);
    assert.match(activities()[0]!.cause, /triggered policy eager/);
  });

  it('respects a suspended scale-out', async () => {
    service.registerScalableTarget({ ...TARGET, minCapacity: 1, maxCapacity: 5, suspendedState: { dynamicScalingOutSuspended: true } });
    service.putScalingPolicy({ ...TARGET, policyName: 'invocations', targetTracking: invocationsPolicy() });
    await reconcileAt(10 * MINUTE);
    for (let minute = 10; minute < 13; minute++) traffic(minute * MINUTE, 500);
    await reconcileAt(13 * MINUTE + 1_000);
    assert.deepEqual(variants.calls, []);
  });
});
