import { randomUUID } from 'node:crypto';
import { describeError } from '../core/errors.ts';
import {
  activityDescription,
  combinePolicyDecisions,
  MAX_ACTIVITIES_PER_TARGET,
  metricDatapointValue,
  type RegisteredScalableTarget,
  type ScalingActivity,
  type ScalingPolicy,
  type TrackedMetric,
} from '../domain/serving/scaling.ts';
import { decideTargetTracking, type Datapoint, type ScalingDecision } from '../domain/serving/target-tracking.ts';
import type { ControlDeps } from './deps.ts';
import type { Reconciler } from './reconciler.ts';
import type { ServingMetrics } from './serving-metrics.ts';
import type { VariantCapacity, VariantScaling } from './variant-scaling.ts';

type Scaling = Extract<ScalingDecision, { kind: 'scale-out' | 'scale-in' }>;

/**
 * Application Auto Scaling's target tracking for endpoint variants. Once per metric period,
 * for every target with a policy whose variant exists, it turns the serving metrics of the
 * complete periods into each policy's datapoints, asks the pure decider, and applies the
 * combined decision through VariantScaling, recording a scaling activity. Every pass also
 * follows the activities in progress until the variant runs the instances they asked for.
 */
export class AutoscalingReconciler implements Reconciler {
  readonly name = 'autoscaling';
  /** When this process began observing: earlier periods have no metrics here (they were in another process, or none). */
  private observingSinceMs: number | undefined;
  /** Per target: each period's datapoint by metric, computed once the period completed, with the instances healthy then. */
  private readonly datapoints = new Map<string, Map<string, Map<number, number | undefined>>>();
  /** Per target: the end of the last period it was evaluated for. */
  private readonly evaluatedUntilMs = new Map<string, number>();

  constructor(
    private readonly deps: ControlDeps,
    private readonly variants: VariantScaling,
    private readonly metrics: ServingMetrics,
    private readonly newId: () => string = randomUUID,
  ) {}

  async reconcile(nowMs: number): Promise<void> {
    this.observingSinceMs ??= nowMs;
    const { store } = this.deps;
    const { metricPeriodMs } = this.deps.autoscaling;
    const lastCompleteEndMs = Math.floor(nowMs / metricPeriodMs) * metricPeriodMs;
    const tracked = new Set<string>();
    for (const target of store.scalableTargets.list()) {
      // One target's failure (its store rows, a refused change) is logged; the others are still served.
      try {
        const capacity = this.variants.capacity(target.endpointName, target.variantName);
        this.followActivities(target, capacity, nowMs);
        const policies = store.scalingPolicies.listForTarget(target.id);
        if (!capacity || policies.length === 0) continue;
        tracked.add(target.id);
        if ((this.evaluatedUntilMs.get(target.id) ?? -Infinity) >= lastCompleteEndMs) continue;
        this.evaluate(target, policies, capacity, lastCompleteEndMs, nowMs);
        this.evaluatedUntilMs.set(target.id, lastCompleteEndMs);
      } catch (error) {
        this.deps.logger.error('autoscaling a target failed', { resourceId: target.resourceId, error: describeError(error) });
      }
    }
    for (const id of [...this.datapoints.keys(), ...this.evaluatedUntilMs.keys()]) {
      if (tracked.has(id)) continue;
      this.datapoints.delete(id);
      this.evaluatedUntilMs.delete(id);
    }
  }

  async settled(): Promise<void> {}

  async close(): Promise<void> {}

  private evaluate(target: RegisteredScalableTarget, policies: ScalingPolicy[], capacity: VariantCapacity, endMs: number, nowMs: number): void {
    const state = {
      minCapacity: target.minCapacity,
      maxCapacity: target.maxCapacity,
      desired: capacity.desired,
      healthy: capacity.healthy,
      lastScaleOut: target.lastScaleOut,
      lastScaleIn: target.lastScaleIn,
    };
    const decisions = policies.map((policy) => {
      const { targetTracking } = policy;
      const window = this.window(target, targetTracking.metric, capacity, endMs);
      return { ...decideTargetTracking(state, targetTracking, window, nowMs, this.deps.autoscaling.alarms), policy, scaleInDisabled: targetTracking.disableScaleIn };
    });
    const chosen = combinePolicyDecisions(decisions);
    if (!chosen || chosen.kind === 'none') return;
    const suspended =
      chosen.kind === 'scale-out' ? target.suspendedState.dynamicScalingOutSuspended : target.suspendedState.dynamicScalingInSuspended;
    if (suspended) return;
    const outOfBounds = capacity.desired < target.minCapacity || capacity.desired > target.maxCapacity;
    const alarm = chosen.policy.alarms[chosen.kind === 'scale-out' ? 0 : 1]?.alarmName;
    const cause = outOfBounds || !alarm ? chosen.cause : `monitor alarm ${alarm} in state ALARM triggered policy ${chosen.policy.policyName}: ${chosen.cause}`;
    this.apply(target, chosen, cause, nowMs);
  }

  /**
   * The policy's datapoints for the complete periods that end by `endMs`, oldest first: the
   * unbroken run that ends with the latest period (a period without healthy instances has no
   * datapoint, and the alarms need consecutive ones), and only periods this process observed.
   */
  private window(target: RegisteredScalableTarget, metric: TrackedMetric, capacity: VariantCapacity, endMs: number): Datapoint[] {
    const { metricPeriodMs, alarms } = this.deps.autoscaling;
    const needed = Math.max(alarms.scaleOutPeriods, alarms.scaleInPeriods);
    const byMetric = this.datapoints.get(target.id) ?? new Map<string, Map<number, number | undefined>>();
    this.datapoints.set(target.id, byMetric);
    const key = metricKey(metric);
    const values = byMetric.get(key) ?? new Map<number, number | undefined>();
    byMetric.set(key, values);
    const window: Datapoint[] = [];
    for (let startMs = endMs - metricPeriodMs; startMs >= endMs - needed * metricPeriodMs; startMs -= metricPeriodMs) {
      if (startMs < this.observingSinceMs!) break;
      if (!values.has(startMs)) {
        const toMs = startMs + metricPeriodMs;
        values.set(
          startMs,
          metricDatapointValue(metric, {
            invocations: this.metrics.invocations(target.endpointName, target.variantName, startMs, toMs),
            modelBusyMs: this.metrics.modelBusyMs(target.endpointName, target.variantName, startMs, toMs),
            healthy: capacity.healthy,
            periodMs: metricPeriodMs,
          }),
        );
      }
      const value = values.get(startMs);
      if (value === undefined) break;
      window.unshift({ atMs: startMs, value });
    }
    for (const startMs of values.keys()) if (startMs < endMs - needed * metricPeriodMs) values.delete(startMs);
    return window;
  }

  private apply(target: RegisteredScalableTarget, decision: Scaling, cause: string, nowMs: number): void {
    const { store, logger } = this.deps;
    const activity: ScalingActivity = {
      activityId: this.newId(),
      targetId: target.id,
      serviceNamespace: target.serviceNamespace,
      resourceId: target.resourceId,
      scalableDimension: target.scalableDimension,
      description: activityDescription(decision.to),
      cause,
      desiredCount: decision.to,
      startTimeMs: nowMs,
      statusCode: 'InProgress',
    };
    try {
      this.variants.setDesiredInstances(target.endpointName, target.variantName, decision.to);
    } catch (error) {
      const message = `Failed to set desired instance count to ${decision.to}. Reason: ${describeError(error)}`;
      this.record({ ...activity, statusCode: 'Failed', statusMessage: message, endTimeMs: nowMs });
      logger.warn('autoscaling could not scale a variant', { resourceId: target.resourceId, error: describeError(error) });
      return;
    }
    store.scalableTargets.modify(target.id, (current) =>
      decision.kind === 'scale-out'
        ? { ...current, lastScaleOut: { atMs: nowMs, desired: decision.to } }
        : { ...current, lastScaleIn: { atMs: nowMs } },
    );
    this.record(activity);
    logger.info('autoscaling set a variant’s desired instance count', { resourceId: target.resourceId, from: decision.from, to: decision.to, cause });
  }

  /** Stores the activity and drops the target's oldest beyond the ones kept. */
  private record(activity: ScalingActivity): void {
    const { scalingActivities } = this.deps.store;
    scalingActivities.create(activity);
    for (const old of scalingActivities.listForTarget(activity.targetId).slice(MAX_ACTIVITIES_PER_TARGET)) scalingActivities.delete(old.activityId);
  }

  /**
   * An activity is done when the variant runs as many healthy instances as it asked for; it
   * was overridden when the desired count changed since (a later activity, or an update of
   * the endpoint); it failed when the endpoint went away first.
   */
  private followActivities(target: RegisteredScalableTarget, capacity: VariantCapacity | undefined, nowMs: number): void {
    const { scalingActivities } = this.deps.store;
    for (const activity of scalingActivities.listForTarget(target.id)) {
      if (activity.statusCode !== 'InProgress') continue;
      const count = activity.desiredCount;
      if (!capacity) {
        scalingActivities.update(activity.activityId, {
          statusCode: 'Failed',
          statusMessage: `Failed to set desired instance count to ${count}. Reason: endpoint ${target.endpointName} or its variant ${target.variantName} no longer exists.`,
          endTimeMs: nowMs,
        });
      } else if (capacity.desired !== count) {
        scalingActivities.update(activity.activityId, {
          statusCode: 'Overridden',
          statusMessage: `The desired instance count was changed to ${capacity.desired} before ${count} instances were running.`,
          endTimeMs: nowMs,
        });
      } else if (capacity.healthy === count) {
        scalingActivities.update(activity.activityId, {
          statusCode: 'Successful',
          statusMessage: `Successfully set desired instance count to ${count}. Change successfully fulfilled by sagemaker.`,
          endTimeMs: nowMs,
        });
      }
    }
  }
}

function metricKey(metric: TrackedMetric): string {
  return metric.kind === 'predefined' ? metric.predefinedMetricType : `${metric.namespace}/${metric.metricName}`;
}
