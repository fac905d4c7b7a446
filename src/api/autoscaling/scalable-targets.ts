import type { Platform } from '../../control/platform.ts';
import type { JsonOperation } from '../aws/json-protocol.ts';
import { defined } from '../sagemaker/wire.ts';
import { describePage, scalableTargetToWire, targetRef, type WirePaging, type WireTargetRef } from './wire.ts';

interface WireSuspendedState {
  DynamicScalingInSuspended?: boolean;
  DynamicScalingOutSuspended?: boolean;
  ScheduledScalingSuspended?: boolean;
}

/** RegisterScalableTarget, DeregisterScalableTarget and DescribeScalableTargets. */
export function scalableTargetOperations(platform: Platform): Record<string, JsonOperation> {
  return {
    RegisterScalableTarget: {
      handler: (input: WireTargetRef & { MinCapacity?: number; MaxCapacity?: number; RoleARN?: string; SuspendedState?: WireSuspendedState }) => {
        platform.autoscaling.registerScalableTarget({
          ...targetRef(input),
          minCapacity: input.MinCapacity,
          maxCapacity: input.MaxCapacity,
          roleArn: input.RoleARN,
          suspendedState: input.SuspendedState && {
            dynamicScalingInSuspended: input.SuspendedState.DynamicScalingInSuspended,
            dynamicScalingOutSuspended: input.SuspendedState.DynamicScalingOutSuspended,
            scheduledScalingSuspended: input.SuspendedState.ScheduledScalingSuspended,
          },
        });
        return {};
      },
    },
    DeregisterScalableTarget: {
      handler: (input: WireTargetRef) => {
        platform.autoscaling.deregisterScalableTarget(targetRef(input));
        return {};
      },
    },
    DescribeScalableTargets: {
      handler: (input: { ServiceNamespace: string; ResourceIds?: string[]; ScalableDimension?: string } & WirePaging) => {
        const targets = platform.autoscaling.describeScalableTargets({
          serviceNamespace: input.ServiceNamespace,
          resourceIds: input.ResourceIds,
          scalableDimension: input.ScalableDimension,
        });
        const { items, nextToken } = describePage(targets, input, (target) => ({ name: target.id, createdAtMs: target.createdAtMs }), {
          sortBy: 'Name',
          sortOrder: 'Ascending',
        });
        return defined({ ScalableTargets: items.map(scalableTargetToWire), NextToken: nextToken });
      },
    },
  };
}
