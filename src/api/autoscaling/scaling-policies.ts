import type { Platform } from '../../control/platform.ts';
import { DomainError } from '../../core/errors.ts';
import {
  DEFAULT_COOLDOWN_SECONDS,
  ENDPOINT_METRICS_NAMESPACE,
  INVOCATIONS_PER_INSTANCE,
  parseVariantTarget,
  type TargetTrackingConfiguration,
  type VariantRef,
  type TrackedMetric,
} from '../../domain/serving/scaling.ts';
import type { JsonOperation } from '../aws/json-protocol.ts';
import { defined } from '../sagemaker/wire.ts';
import { alarmsToWire, describePage, scalingPolicyToWire, targetRef, type WirePaging, type WireTargetRef } from './wire.ts';

interface WireTargetTracking {
  TargetValue: number;
  PredefinedMetricSpecification?: { PredefinedMetricType: string; ResourceLabel?: string };
  CustomizedMetricSpecification?: {
    MetricName: string;
    Namespace: string;
    Dimensions?: { Name: string; Value: string }[];
    Statistic: string;
    Unit?: string;
  };
  ScaleOutCooldown?: number;
  ScaleInCooldown?: number;
  DisableScaleIn?: boolean;
}

interface PutScalingPolicyRequest extends WireTargetRef {
  PolicyName: string;
  PolicyType?: string;
  StepScalingPolicyConfiguration?: unknown;
  TargetTrackingScalingPolicyConfiguration?: WireTargetTracking;
}

const CONFIGURATION = 'TargetTrackingScalingPolicyConfiguration';

/** PutScalingPolicy, DescribeScalingPolicies and DeleteScalingPolicy. */
export function scalingPolicyOperations(platform: Platform): Record<string, JsonOperation> {
  return {
    PutScalingPolicy: {
      handler: (input: PutScalingPolicyRequest) => {
        const variant = parseVariantTarget(input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
        const policy = platform.autoscaling.putScalingPolicy({
          ...targetRef(input),
          policyName: input.PolicyName,
          targetTracking: targetTrackingFromWire(input, variant),
        });
        return { PolicyARN: policy.policyArn, Alarms: alarmsToWire(policy) };
      },
    },
    DescribeScalingPolicies: {
      handler: (input: { ServiceNamespace: string; PolicyNames?: string[]; ResourceId?: string; ScalableDimension?: string } & WirePaging) => {
        const policies = platform.autoscaling.describeScalingPolicies({
          serviceNamespace: input.ServiceNamespace,
          policyNames: input.PolicyNames,
          resourceId: input.ResourceId,
          scalableDimension: input.ScalableDimension,
        });
        const { items, nextToken } = describePage(policies, input, (policy) => ({ name: policy.policyArn, createdAtMs: policy.createdAtMs }), {
          sortBy: 'CreationTime',
          sortOrder: 'Ascending',
        });
        return defined({ ScalingPolicies: items.map(scalingPolicyToWire), NextToken: nextToken });
      },
    },
    DeleteScalingPolicy: {
      handler: (input: WireTargetRef & { PolicyName: string }) => {
        platform.autoscaling.deleteScalingPolicy({ ...targetRef(input), policyName: input.PolicyName });
        return {};
      },
    },
  };
}

function refused(message: string, field: string): DomainError {
  return new DomainError('ValidationError', message, { field });
}

/**
 * Kennel tracks a target on the two metrics it measures: invocations per instance, and CPU
 * utilisation of the instances. Anything else is refused with what is supported.
 */
function targetTrackingFromWire(input: PutScalingPolicyRequest, variant: VariantRef): TargetTrackingConfiguration {
  const policyType = input.PolicyType ?? 'StepScaling';
  if (policyType !== 'TargetTrackingScaling') {
    throw refused(
      `PolicyType ${policyType}${input.PolicyType === undefined ? ' (the default when PolicyType is omitted)' : ''} is not supported by Kennel; use PolicyType TargetTrackingScaling with a ${CONFIGURATION}`,
      'PolicyType',
    );
  }
  if (input.StepScalingPolicyConfiguration !== undefined) {
    throw refused('StepScalingPolicyConfiguration cannot be given with PolicyType TargetTrackingScaling', 'StepScalingPolicyConfiguration');
  }
  const config = input.TargetTrackingScalingPolicyConfiguration;
  if (!config) throw refused(`${CONFIGURATION} is required for PolicyType TargetTrackingScaling`, CONFIGURATION);
  if (!(config.TargetValue > 0) || !Number.isFinite(config.TargetValue)) {
    throw refused(`${CONFIGURATION}.TargetValue must be a number greater than 0, not ${config.TargetValue}`, `${CONFIGURATION}.TargetValue`);
  }
  for (const field of ['ScaleOutCooldown', 'ScaleInCooldown'] as const) {
    const value = config[field];
    if (value !== undefined && value < 0) throw refused(`${CONFIGURATION}.${field} must be 0 or more seconds, not ${value}`, `${CONFIGURATION}.${field}`);
  }
  return {
    targetValue: config.TargetValue,
    metric: trackedMetric(config, variant),
    scaleOutCooldownSeconds: config.ScaleOutCooldown ?? DEFAULT_COOLDOWN_SECONDS,
    scaleInCooldownSeconds: config.ScaleInCooldown ?? DEFAULT_COOLDOWN_SECONDS,
    disableScaleIn: config.DisableScaleIn ?? false,
  };
}

function trackedMetric(config: WireTargetTracking, { endpointName, variantName }: VariantRef): TrackedMetric {
  const predefined = config.PredefinedMetricSpecification;
  const customized = config.CustomizedMetricSpecification;
  if ((predefined === undefined) === (customized === undefined)) {
    throw refused(`${CONFIGURATION} needs exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification`, CONFIGURATION);
  }
  if (predefined) {
    if (predefined.PredefinedMetricType !== INVOCATIONS_PER_INSTANCE) {
      throw refused(
        `PredefinedMetricType ${predefined.PredefinedMetricType} is not supported for SageMaker variants by Kennel; use ${INVOCATIONS_PER_INSTANCE}, or CustomizedMetricSpecification CPUUtilization`,
        `${CONFIGURATION}.PredefinedMetricSpecification.PredefinedMetricType`,
      );
    }
    return defined({ kind: 'predefined' as const, predefinedMetricType: INVOCATIONS_PER_INSTANCE, resourceLabel: predefined.ResourceLabel });
  }
  const at = `${CONFIGURATION}.CustomizedMetricSpecification`;
  if (customized!.MetricName !== 'CPUUtilization' || customized!.Namespace !== ENDPOINT_METRICS_NAMESPACE) {
    throw refused(
      `Customized metric ${customized!.Namespace} ${customized!.MetricName} is not supported by Kennel; the customized metric it measures is CPUUtilization in namespace ${ENDPOINT_METRICS_NAMESPACE}`,
      `${at}.MetricName`,
    );
  }
  if (customized!.Statistic !== 'Average') {
    throw refused(`Statistic ${customized!.Statistic} is not supported for CPUUtilization by Kennel; use Average`, `${at}.Statistic`);
  }
  const dimensions = (customized!.Dimensions ?? []).map((dimension) => ({ name: dimension.Name, value: dimension.Value }));
  for (const dimension of dimensions) {
    const expected = dimension.name === 'EndpointName' ? endpointName : dimension.name === 'VariantName' ? variantName : undefined;
    if (expected === undefined || dimension.value !== expected) {
      throw refused(
        `Dimension ${dimension.name}=${dimension.value} does not name this target; CPUUtilization takes EndpointName=${endpointName} and VariantName=${variantName}`,
        `${at}.Dimensions`,
      );
    }
  }
  return defined({ kind: 'customized' as const, metricName: 'CPUUtilization' as const, namespace: ENDPOINT_METRICS_NAMESPACE, statistic: 'Average' as const, dimensions, unit: customized!.Unit });
}
