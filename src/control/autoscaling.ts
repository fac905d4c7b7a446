import { randomUUID } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import {
  compareActivitiesNewestFirst,
  parseVariantTarget,
  SAGEMAKER_AUTOSCALING_ROLE_ARN,
  SAGEMAKER_NAMESPACE,
  scalableTargetId,
  scalingPolicyArn,
  targetTrackingAlarms,
  VARIANT_DIMENSION,
  type RegisteredScalableTarget,
  type ScalingActivity,
  type ScalingPolicy,
  type SuspendedState,
  type TargetTrackingConfiguration,
} from '../domain/serving/scaling.ts';
import type { ControlDeps } from './deps.ts';
import { MAX_INSTANCES_PER_VARIANT } from './endpoints.ts';
import type { VariantScaling } from './variant-scaling.ts';

export interface TargetRef {
  serviceNamespace: string;
  resourceId: string;
  scalableDimension: string;
}

export interface RegisterScalableTargetInput extends TargetRef {
  minCapacity?: number;
  maxCapacity?: number;
  roleArn?: string;
  suspendedState?: Partial<SuspendedState>;
}

export interface PutScalingPolicyInput extends TargetRef {
  policyName: string;
  targetTracking: TargetTrackingConfiguration;
}

/** Filters of the Describe calls; each is optional, as on the wire. */
export interface TargetFilter {
  serviceNamespace: string;
  resourceIds?: readonly string[];
  resourceId?: string;
  scalableDimension?: string;
}

/**
 * Application Auto Scaling's desired state: which variants may scale, within what bounds, and
 * on which policies. The autoscaler reconciler acts on it; this only records and checks.
 */
export class AutoscalingService {
  constructor(
    private readonly deps: ControlDeps,
    private readonly variants: VariantScaling,
    private readonly newId: () => string = randomUUID,
  ) {}

  /** Registers the target, or updates the bounds of one already registered (omitted bounds keep their values). */
  registerScalableTarget(input: RegisterScalableTargetInput): RegisteredScalableTarget {
    const variant = parseVariantTarget(input.serviceNamespace, input.resourceId, input.scalableDimension);
    const { store, clock } = this.deps;
    const id = scalableTargetId(input.serviceNamespace, input.resourceId, input.scalableDimension);
    const existing = store.scalableTargets.get(id);
    for (const field of ['minCapacity', 'maxCapacity'] as const) {
      const value = input[field];
      if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
        throw new DomainError('ValidationError', `${capitalised(field)} must be a non-negative integer, not ${value}`, { field: capitalised(field) });
      }
    }
    if (!existing && (input.minCapacity === undefined || input.maxCapacity === undefined)) {
      throw new DomainError('ValidationError', 'MinCapacity and MaxCapacity are required to register a new scalable target', {
        field: input.minCapacity === undefined ? 'MinCapacity' : 'MaxCapacity',
      });
    }
    const minCapacity = input.minCapacity ?? existing!.minCapacity;
    const maxCapacity = input.maxCapacity ?? existing!.maxCapacity;
    if (minCapacity > maxCapacity) {
      throw new DomainError('ValidationError', `Minimum capacity cannot be greater than maximum capacity (MinCapacity ${minCapacity}, MaxCapacity ${maxCapacity})`, {
        field: 'MinCapacity',
      });
    }
    if (minCapacity < 1) {
      throw new DomainError('ValidationError', `MinCapacity of a SageMaker variant must be at least 1, not ${minCapacity}`, { field: 'MinCapacity' });
    }
    if (maxCapacity > MAX_INSTANCES_PER_VARIANT) {
      throw new DomainError(
        'ValidationError',
        `MaxCapacity ${maxCapacity} is more than the ${MAX_INSTANCES_PER_VARIANT} instances Kennel runs per production variant; lower it to ${MAX_INSTANCES_PER_VARIANT} or less`,
        { field: 'MaxCapacity' },
      );
    }
    if (!this.variants.capacity(variant.endpointName, variant.variantName)) {
      throw new DomainError(
        'ValidationError',
        `Unable to register scalable target ${input.resourceId}: endpoint ${variant.endpointName} does not exist or has no variant ${variant.variantName}`,
        { field: 'ResourceId' },
      );
    }
    const suspended = (previous?: SuspendedState): SuspendedState => ({
      dynamicScalingInSuspended: input.suspendedState?.dynamicScalingInSuspended ?? previous?.dynamicScalingInSuspended ?? false,
      dynamicScalingOutSuspended: input.suspendedState?.dynamicScalingOutSuspended ?? previous?.dynamicScalingOutSuspended ?? false,
      scheduledScalingSuspended: input.suspendedState?.scheduledScalingSuspended ?? previous?.scheduledScalingSuspended ?? false,
    });
    if (existing) {
      return store.scalableTargets.modify(id, (target) => ({
        ...target,
        minCapacity,
        maxCapacity,
        roleArn: input.roleArn ?? target.roleArn,
        suspendedState: suspended(target.suspendedState),
      }));
    }
    const target: RegisteredScalableTarget = {
      id,
      serviceNamespace: input.serviceNamespace,
      resourceId: input.resourceId,
      scalableDimension: input.scalableDimension,
      ...variant,
      minCapacity,
      maxCapacity,
      roleArn: input.roleArn ?? SAGEMAKER_AUTOSCALING_ROLE_ARN,
      suspendedState: suspended(),
      createdAtMs: clock.now(),
    };
    store.scalableTargets.create(target);
    return target;
  }

  /** Deregisters the target and deletes its policies and activities. */
  deregisterScalableTarget(ref: TargetRef): void {
    parseVariantTarget(ref.serviceNamespace, ref.resourceId, ref.scalableDimension);
    const { store } = this.deps;
    const id = scalableTargetId(ref.serviceNamespace, ref.resourceId, ref.scalableDimension);
    if (!store.scalableTargets.get(id)) throw noTarget(ref);
    for (const policy of store.scalingPolicies.listForTarget(id)) store.scalingPolicies.delete(policy.policyArn);
    for (const activity of store.scalingActivities.listForTarget(id)) store.scalingActivities.delete(activity.activityId);
    store.scalableTargets.delete(id);
  }

  describeScalableTargets(filter: TargetFilter): RegisteredScalableTarget[] {
    assertDescribable(filter);
    return this.deps.store.scalableTargets.list().filter((target) => matches(target, filter));
  }

  /** Creates the policy, or replaces the configuration of the target's policy of that name (keeping its ARN, as AWS does). */
  putScalingPolicy(input: PutScalingPolicyInput): ScalingPolicy {
    parseVariantTarget(input.serviceNamespace, input.resourceId, input.scalableDimension);
    const { store, clock } = this.deps;
    const targetId = scalableTargetId(input.serviceNamespace, input.resourceId, input.scalableDimension);
    if (!store.scalableTargets.get(targetId)) throw noTarget(input);
    const existing = store.scalingPolicies.listForTarget(targetId).find((policy) => policy.policyName === input.policyName);
    if (existing) return store.scalingPolicies.modify(existing.policyArn, (policy) => ({ ...policy, targetTracking: input.targetTracking }));
    const policy: ScalingPolicy = {
      policyArn: scalingPolicyArn(this.newId(), input),
      policyName: input.policyName,
      targetId,
      serviceNamespace: input.serviceNamespace,
      resourceId: input.resourceId,
      scalableDimension: input.scalableDimension,
      policyType: 'TargetTrackingScaling',
      targetTracking: input.targetTracking,
      alarms: targetTrackingAlarms(input.resourceId, this.newId(), this.newId()),
      createdAtMs: clock.now(),
    };
    store.scalingPolicies.create(policy);
    return policy;
  }

  describeScalingPolicies(filter: TargetFilter & { policyNames?: readonly string[] }): ScalingPolicy[] {
    assertDescribable(filter);
    return this.deps.store.scalingPolicies
      .list()
      .filter((policy) => matches(policy, filter) && (!filter.policyNames?.length || filter.policyNames.includes(policy.policyName)));
  }

  deleteScalingPolicy(ref: TargetRef & { policyName: string }): void {
    parseVariantTarget(ref.serviceNamespace, ref.resourceId, ref.scalableDimension);
    const { store } = this.deps;
    const targetId = scalableTargetId(ref.serviceNamespace, ref.resourceId, ref.scalableDimension);
    const policy = store.scalingPolicies.listForTarget(targetId).find((candidate) => candidate.policyName === ref.policyName);
    if (!policy) {
      throw new DomainError(
        'NotFound',
        `No scaling policy found for service namespace: ${ref.serviceNamespace}, resource ID: ${ref.resourceId}, scalable dimension: ${ref.scalableDimension}, policy name: ${ref.policyName}`,
      );
    }
    store.scalingPolicies.delete(policy.policyArn);
  }

  /** Newest first. */
  describeScalingActivities(filter: TargetFilter): ScalingActivity[] {
    assertDescribable(filter);
    const { store } = this.deps;
    const activities =
      filter.resourceId !== undefined && filter.scalableDimension !== undefined
        ? store.scalingActivities.listForTarget(scalableTargetId(filter.serviceNamespace, filter.resourceId, filter.scalableDimension))
        : store.scalingActivities.list().filter((activity) => matches(activity, filter));
    return activities.sort(compareActivitiesNewestFirst);
  }
}

function capitalised(field: string): string {
  return field[0]!.toUpperCase() + field.slice(1);
}

function noTarget(ref: TargetRef): DomainError {
  return new DomainError(
    'NotFound',
    `No scalable target registered for service namespace: ${ref.serviceNamespace}, resource ID: ${ref.resourceId}, scalable dimension: ${ref.scalableDimension}`,
  );
}

/** The Describe calls take any namespace the model allows; Kennel has targets in one only, and says so. */
function assertDescribable(filter: TargetFilter): void {
  if (filter.serviceNamespace !== SAGEMAKER_NAMESPACE) {
    throw new DomainError(
      'ValidationError',
      `Unsupported service namespace ${filter.serviceNamespace}: Kennel scales SageMaker endpoint variants only (ServiceNamespace ${SAGEMAKER_NAMESPACE})`,
      { field: 'ServiceNamespace' },
    );
  }
  if (filter.scalableDimension !== undefined && filter.scalableDimension !== VARIANT_DIMENSION) {
    throw new DomainError(
      'ValidationError',
      `Unsupported scalable dimension ${filter.scalableDimension} for service namespace ${filter.serviceNamespace}: the supported dimension is ${VARIANT_DIMENSION}`,
      { field: 'ScalableDimension' },
    );
  }
}

function matches(record: TargetRef, filter: TargetFilter): boolean {
  return (
    record.serviceNamespace === filter.serviceNamespace &&
    (filter.scalableDimension === undefined || record.scalableDimension === filter.scalableDimension) &&
    (filter.resourceId === undefined || record.resourceId === filter.resourceId) &&
    (!filter.resourceIds?.length || filter.resourceIds.includes(record.resourceId))
  );
}
