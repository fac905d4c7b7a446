import { DomainError } from '../../core/errors.ts';
import { ACCOUNT_ID, DEFAULT_REGION } from '../iam/arn.ts';
import type { AlarmSettings, ScalableTarget, TargetTrackingPolicy } from './target-tracking.ts';

/**
 * Application Auto Scaling as Kennel serves it: scalable targets, target-tracking
 * policies and scaling activities, for SageMaker endpoint variants only.
 */

export const SAGEMAKER_NAMESPACE = 'sagemaker';
export const VARIANT_DIMENSION = 'sagemaker:variant:DesiredInstanceCount';

/** The service-linked role AWS records for SageMaker targets registered without a RoleARN. */
export const SAGEMAKER_AUTOSCALING_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`;

export const INVOCATIONS_PER_INSTANCE = 'SageMakerVariantInvocationsPerInstance';
export const ENDPOINT_METRICS_NAMESPACE = '/aws/sagemaker/Endpoints';

/** AWS's default cooldowns for SageMaker variants, in seconds. */
export const DEFAULT_COOLDOWN_SECONDS = 300;

/** Activities kept per target; older ones are dropped as new ones are recorded. */
export const MAX_ACTIVITIES_PER_TARGET = 50;

export interface VariantRef {
  endpointName: string;
  variantName: string;
}

export interface SuspendedState {
  dynamicScalingInSuspended: boolean;
  dynamicScalingOutSuspended: boolean;
  scheduledScalingSuspended: boolean;
}

/** A registered scalable target: one endpoint variant's DesiredInstanceCount, kept in [min, max]. */
export interface RegisteredScalableTarget {
  /** scalableTargetId(namespace, resourceId, dimension): the store key. */
  id: string;
  serviceNamespace: string;
  resourceId: string;
  scalableDimension: string;
  endpointName: string;
  variantName: string;
  minCapacity: number;
  maxCapacity: number;
  roleArn: string;
  suspendedState: SuspendedState;
  createdAtMs: number;
  lastScaleOut?: ScalableTarget['lastScaleOut'];
  lastScaleIn?: ScalableTarget['lastScaleIn'];
}

export type TrackedMetric =
  | { kind: 'predefined'; predefinedMetricType: typeof INVOCATIONS_PER_INSTANCE; resourceLabel?: string }
  | {
      kind: 'customized';
      metricName: 'CPUUtilization';
      namespace: typeof ENDPOINT_METRICS_NAMESPACE;
      statistic: 'Average';
      dimensions: { name: string; value: string }[];
      unit?: string;
    };

export interface TargetTrackingConfiguration extends TargetTrackingPolicy {
  metric: TrackedMetric;
}

export interface ScalingAlarm {
  alarmName: string;
  alarmArn: string;
}

export interface ScalingPolicy {
  /** The store key. */
  policyArn: string;
  policyName: string;
  /** The RegisteredScalableTarget's id. */
  targetId: string;
  serviceNamespace: string;
  resourceId: string;
  scalableDimension: string;
  policyType: 'TargetTrackingScaling';
  targetTracking: TargetTrackingConfiguration;
  alarms: ScalingAlarm[];
  createdAtMs: number;
}

export type ScalingActivityStatus = 'Pending' | 'InProgress' | 'Successful' | 'Overridden' | 'Unfulfilled' | 'Failed';

export interface ScalingActivity {
  /** The store key. */
  activityId: string;
  targetId: string;
  serviceNamespace: string;
  resourceId: string;
  scalableDimension: string;
  description: string;
  cause: string;
  /** The DesiredInstanceCount the activity set: it is done once that many instances are healthy. */
  desiredCount: number;
  startTimeMs: number;
  endTimeMs?: number;
  statusCode: ScalingActivityStatus;
  statusMessage?: string;
}

/** How the autoscaler reads metrics: the period of one datapoint, and the alarms' datapoints to alarm. */
export interface AutoscalingSettings {
  /** One datapoint per period, like CloudWatch's one-minute metrics; shorter for local experiments. */
  metricPeriodMs: number;
  alarms: AlarmSettings;
}

export function scalableTargetId(serviceNamespace: string, resourceId: string, scalableDimension: string): string {
  return `${serviceNamespace}|${resourceId}|${scalableDimension}`;
}

/**
 * Refuses what Kennel does not scale: every namespace but `sagemaker`, every dimension but a
 * variant's DesiredInstanceCount, and a ResourceId that is not `endpoint/<name>/variant/<name>`.
 */
export function parseVariantTarget(serviceNamespace: string, resourceId: string, scalableDimension: string): VariantRef {
  if (serviceNamespace !== SAGEMAKER_NAMESPACE) {
    throw new DomainError(
      'ValidationError',
      `Unsupported service namespace ${serviceNamespace}: Kennel scales SageMaker endpoint variants only (ServiceNamespace ${SAGEMAKER_NAMESPACE})`,
      { field: 'ServiceNamespace' },
    );
  }
  if (scalableDimension !== VARIANT_DIMENSION) {
    throw new DomainError(
      'ValidationError',
      `Unsupported scalable dimension ${scalableDimension} for service namespace ${serviceNamespace}: the supported dimension is ${VARIANT_DIMENSION}`,
      { field: 'ScalableDimension' },
    );
  }
  const match = /^endpoint\/([^/]+)\/variant\/([^/]+)$/.exec(resourceId);
  if (!match) {
    throw new DomainError(
      'ValidationError',
      `Unsupported resource ID ${resourceId}: a SageMaker variant's resource ID is endpoint/<endpoint-name>/variant/<variant-name>`,
      { field: 'ResourceId' },
    );
  }
  return { endpointName: match[1]!, variantName: match[2]! };
}

/** ARNs as Application Auto Scaling and CloudWatch write them. */
export function scalingPolicyArn(id: string, policy: { serviceNamespace: string; resourceId: string; policyName: string }): string {
  return `arn:aws:autoscaling:${DEFAULT_REGION}:${ACCOUNT_ID}:scalingPolicy:${id}:resource/${policy.serviceNamespace}/${policy.resourceId}:policyName/${policy.policyName}`;
}

/** The two alarms a target-tracking policy creates: high (scale out) and low (scale in). */
export function targetTrackingAlarms(resourceId: string, highId: string, lowId: string): ScalingAlarm[] {
  return [`TargetTracking-${resourceId}-AlarmHigh-${highId}`, `TargetTracking-${resourceId}-AlarmLow-${lowId}`].map((alarmName) => ({
    alarmName,
    alarmArn: `arn:aws:cloudwatch:${DEFAULT_REGION}:${ACCOUNT_ID}:alarm:${alarmName}`,
  }));
}

/** AWS's description of an activity that sets a variant's instance count. */
export function activityDescription(count: number): string {
  return `Setting desired instance count to ${count}.`;
}

/** Newest first, as DescribeScalingActivities lists them; the id breaks ties so the order is total. */
export function compareActivitiesNewestFirst(a: ScalingActivity, b: ScalingActivity): number {
  return b.startTimeMs - a.startTimeMs || (a.activityId < b.activityId ? 1 : a.activityId > b.activityId ? -1 : 0);
}

/**
 * One period's value of a policy's metric, per instance, or undefined when no instance was
 * healthy (CloudWatch has no datapoint then). Invocations per instance are the period's
 * invocations over the healthy instances; CPU utilisation is the share of the instances' time
 * spent answering, in percent.
 */
export function metricDatapointValue(
  metric: TrackedMetric,
  observed: { invocations: number; modelBusyMs: number; healthy: number; periodMs: number },
): number | undefined {
  if (observed.healthy <= 0) return undefined;
  if (metric.kind === 'predefined') return observed.invocations / observed.healthy;
  return (100 * observed.modelBusyMs) / (observed.periodMs * observed.healthy);
}

/**
 * What several policies on one target ask for together, as Application Auto Scaling combines
 * them: scale out if any policy asks to, to the largest count asked for; scale in only if every
 * policy that may scale in asks to (one with DisableScaleIn has no say), and only as far as the
 * most cautious of them.
 */
export function combinePolicyDecisions<D extends { kind: 'none' | 'scale-out' | 'scale-in'; to?: number; scaleInDisabled?: boolean }>(
  decisions: readonly D[],
): D | undefined {
  const outs = decisions.filter((decision) => decision.kind === 'scale-out');
  if (outs.length > 0) return outs.reduce((best, decision) => (decision.to! > best.to! ? decision : best));
  const voters = decisions.filter((decision) => !decision.scaleInDisabled);
  const ins = voters.filter((decision) => decision.kind === 'scale-in');
  if (ins.length > 0 && ins.length === voters.length) return ins.reduce((best, decision) => (decision.to! > best.to! ? decision : best));
  return undefined;
}
