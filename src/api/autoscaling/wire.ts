import { DomainError } from '../../core/errors.ts';
import type { RegisteredScalableTarget, ScalingActivity, ScalingPolicy } from '../../domain/serving/scaling.ts';
import { listPage, type ListedItem, type ListDefaults } from '../aws/list-page.ts';
import { defined, epochSeconds } from '../sagemaker/wire.ts';

/** The members every Application Auto Scaling call names its target with. */
export interface WireTargetRef {
  ServiceNamespace: string;
  ResourceId: string;
  ScalableDimension: string;
}

export interface WirePaging {
  MaxResults?: number;
  NextToken?: string;
}

/** Application Auto Scaling's page size: 50 by default, and at most. */
const MAX_RESULTS = 50;

export function targetRef(input: WireTargetRef): { serviceNamespace: string; resourceId: string; scalableDimension: string } {
  return { serviceNamespace: input.ServiceNamespace, resourceId: input.ResourceId, scalableDimension: input.ScalableDimension };
}

/**
 * One page of a Describe* answer. Tokens carry the last item's position and are tied to the
 * request's filters, as SageMaker's lists are (see list-page.ts).
 */
export function describePage<T>(records: readonly T[], input: WirePaging, view: (record: T) => ListedItem, defaults: ListDefaults): { items: T[]; nextToken?: string } {
  if (input.MaxResults !== undefined && (input.MaxResults < 1 || input.MaxResults > MAX_RESULTS)) {
    throw new DomainError('ValidationError', `MaxResults must be between 1 and ${MAX_RESULTS}, not ${input.MaxResults}`, { field: 'MaxResults' });
  }
  return listPage(records, { ...input, MaxResults: input.MaxResults ?? MAX_RESULTS }, view, defaults);
}

export function scalableTargetToWire(target: RegisteredScalableTarget): Record<string, unknown> {
  return {
    ServiceNamespace: target.serviceNamespace,
    ResourceId: target.resourceId,
    ScalableDimension: target.scalableDimension,
    MinCapacity: target.minCapacity,
    MaxCapacity: target.maxCapacity,
    RoleARN: target.roleArn,
    CreationTime: epochSeconds(target.createdAtMs),
    SuspendedState: {
      DynamicScalingInSuspended: target.suspendedState.dynamicScalingInSuspended,
      DynamicScalingOutSuspended: target.suspendedState.dynamicScalingOutSuspended,
      ScheduledScalingSuspended: target.suspendedState.scheduledScalingSuspended,
    },
  };
}

export function alarmsToWire(policy: ScalingPolicy): { AlarmName: string; AlarmARN: string }[] {
  return policy.alarms.map((alarm) => ({ AlarmName: alarm.alarmName, AlarmARN: alarm.alarmArn }));
}

export function scalingPolicyToWire(policy: ScalingPolicy): Record<string, unknown> {
  const { targetTracking } = policy;
  const { metric } = targetTracking;
  return {
    PolicyARN: policy.policyArn,
    PolicyName: policy.policyName,
    ServiceNamespace: policy.serviceNamespace,
    ResourceId: policy.resourceId,
    ScalableDimension: policy.scalableDimension,
    PolicyType: policy.policyType,
    TargetTrackingScalingPolicyConfiguration: defined({
      TargetValue: targetTracking.targetValue,
      PredefinedMetricSpecification:
        metric.kind === 'predefined' ? defined({ PredefinedMetricType: metric.predefinedMetricType, ResourceLabel: metric.resourceLabel }) : undefined,
      CustomizedMetricSpecification:
        metric.kind === 'customized'
          ? defined({
              MetricName: metric.metricName,
              Namespace: metric.namespace,
              Dimensions: metric.dimensions.map((dimension) => ({ Name: dimension.name, Value: dimension.value })),
              Statistic: metric.statistic,
              Unit: metric.unit,
            })
          : undefined,
      ScaleOutCooldown: targetTracking.scaleOutCooldownSeconds,
      ScaleInCooldown: targetTracking.scaleInCooldownSeconds,
      DisableScaleIn: targetTracking.disableScaleIn,
    }),
    Alarms: alarmsToWire(policy),
    CreationTime: epochSeconds(policy.createdAtMs),
  };
}

export function scalingActivityToWire(activity: ScalingActivity): Record<string, unknown> {
  return defined({
    ActivityId: activity.activityId,
    ServiceNamespace: activity.serviceNamespace,
    ResourceId: activity.resourceId,
    ScalableDimension: activity.scalableDimension,
    Description: activity.description,
    Cause: activity.cause,
    StartTime: epochSeconds(activity.startTimeMs),
    EndTime: epochSeconds(activity.endTimeMs),
    StatusCode: activity.statusCode,
    StatusMessage: activity.statusMessage,
  });
}
