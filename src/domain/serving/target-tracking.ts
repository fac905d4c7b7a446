/**
 * Target-tracking scaling of an endpoint variant, as Application Auto Scaling
 * does it for SageMaker (`SageMakerVariantInvocationsPerInstance` and the like):
 * a pure function of the scalable target, the policy, the metric and `now`.
 *
 * - The desired count is ceil(healthy instances × metric / target), clamped to
 *   [MinCapacity, MaxCapacity]. Instances that are not healthy yet do not count.
 * - Scale-out is fast: the metric above target for `scaleOutPeriods` periods in
 *   a row (AWS's alarm: 3 of 3 one-minute datapoints). Scale-in is conservative:
 *   below 90% of target for `scaleInPeriods` in a row (15 of 15).
 * - Scale-out cooldown: while it runs, a further scale-out happens only if it
 *   asks for more than the last one did. Scale-in cooldown blocks scale-in only;
 *   a scale-out may happen during it.
 */

export interface ScalableTarget {
  minCapacity: number;
  maxCapacity: number;
  /** What the variant is asked to run now (DesiredInstanceCount). */
  desired: number;
  /** Instances running and healthy: what the metric is spread over. */
  healthy: number;
  lastScaleOut?: { atMs: number; desired: number };
  lastScaleIn?: { atMs: number };
}

export interface TargetTrackingPolicy {
  targetValue: number;
  scaleOutCooldownSeconds: number;
  scaleInCooldownSeconds: number;
  disableScaleIn: boolean;
}

/** One period's value of the metric, per instance (invocations per instance per period, or CPU %). */
export interface Datapoint {
  /** Start of the period. */
  atMs: number;
  value: number;
}

export interface AlarmSettings {
  /** Consecutive periods above target that scale out. */
  scaleOutPeriods: number;
  /** Consecutive periods below 90% of target that scale in. */
  scaleInPeriods: number;
}

/** The periods of AWS's target-tracking alarms. */
export const AWS_ALARMS: AlarmSettings = { scaleOutPeriods: 3, scaleInPeriods: 15 };

/** Scale-in waits for the metric to be this far below target, so a steady metric near it never flaps. */
const SCALE_IN_THRESHOLD = 0.9;

export type ScalingDecision =
  | { kind: 'none'; reason: string }
  | { kind: 'scale-out' | 'scale-in'; from: number; to: number; cause: string };

/**
 * `window` is the latest complete periods, oldest first. The decision is about
 * DesiredInstanceCount; whoever applies it records lastScaleOut/lastScaleIn.
 */
export function decideTargetTracking(
  target: ScalableTarget,
  policy: TargetTrackingPolicy,
  window: readonly Datapoint[],
  nowMs: number,
  alarms: AlarmSettings = AWS_ALARMS,
): ScalingDecision {
  const clamp = (count: number) => Math.min(target.maxCapacity, Math.max(target.minCapacity, count));
  if (target.desired < target.minCapacity || target.desired > target.maxCapacity) {
    const to = clamp(target.desired);
    return { kind: to > target.desired ? 'scale-out' : 'scale-in', from: target.desired, to, cause: `the desired count ${target.desired} is outside [${target.minCapacity}, ${target.maxCapacity}]` };
  }
  const latest = window.at(-1);
  if (!latest) return { kind: 'none', reason: 'no metric datapoints yet' };
  const wanted = clamp(Math.ceil((Math.max(1, target.healthy) * latest.value) / policy.targetValue));
  const last = (count: number) => window.slice(-count);
  const describe = (count: number) => `${count} datapoint${count === 1 ? '' : 's'} (${last(count).map((point) => round(point.value)).join(', ')})`;

  const high = window.length >= alarms.scaleOutPeriods && last(alarms.scaleOutPeriods).every((point) => point.value > policy.targetValue);
  if (high) {
    if (wanted <= target.desired) return { kind: 'none', reason: `above target, but ${target.desired} instances is already what it asks for, or the maximum` };
    const cooling = target.lastScaleOut && nowMs < target.lastScaleOut.atMs + policy.scaleOutCooldownSeconds * 1000;
    if (cooling && wanted <= target.lastScaleOut!.desired) {
      return { kind: 'none', reason: `in scale-out cooldown, and ${wanted} is no more than the ${target.lastScaleOut!.desired} the last scale-out asked for` };
    }
    return {
      kind: 'scale-out',
      from: target.desired,
      to: wanted,
      cause: `the metric was above the target ${round(policy.targetValue)} for ${describe(alarms.scaleOutPeriods)}`,
    };
  }

  const low = window.length >= alarms.scaleInPeriods && last(alarms.scaleInPeriods).every((point) => point.value < policy.targetValue * SCALE_IN_THRESHOLD);
  if (low && wanted < target.desired) {
    if (policy.disableScaleIn) return { kind: 'none', reason: 'below target, but scale-in is disabled' };
    if (target.healthy < target.desired) return { kind: 'none', reason: 'below target, but instances are still starting' };
    if (target.lastScaleIn && nowMs < target.lastScaleIn.atMs + policy.scaleInCooldownSeconds * 1000) {
      return { kind: 'none', reason: 'below target, but in scale-in cooldown' };
    }
    return {
      kind: 'scale-in',
      from: target.desired,
      to: wanted,
      cause: `the metric was below ${round(policy.targetValue * SCALE_IN_THRESHOLD)} (90% of the target ${round(policy.targetValue)}) for ${describe(alarms.scaleInPeriods)}`,
    };
  }
  return { kind: 'none', reason: 'the metric is near its target' };
}

function round(value: number): string {
  return Number(value.toPrecision(4)).toString();
}
