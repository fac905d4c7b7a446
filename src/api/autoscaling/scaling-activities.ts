import type { Platform } from '../../control/platform.ts';
import type { JsonOperation } from '../aws/json-protocol.ts';
import { defined } from '../sagemaker/wire.ts';
import { describePage, scalingActivityToWire, type WirePaging } from './wire.ts';

/** DescribeScalingActivities: newest first, as AWS lists them. */
export function scalingActivityOperations(platform: Platform): Record<string, JsonOperation> {
  return {
    DescribeScalingActivities: {
      handler: (input: { ServiceNamespace: string; ResourceId?: string; ScalableDimension?: string } & WirePaging) => {
        const activities = platform.autoscaling.describeScalingActivities({
          serviceNamespace: input.ServiceNamespace,
          resourceId: input.ResourceId,
          scalableDimension: input.ScalableDimension,
        });
        const { items, nextToken } = describePage(activities, input, (activity) => ({ name: activity.activityId, createdAtMs: activity.startTimeMs }), {
          sortBy: 'CreationTime',
          sortOrder: 'Descending',
        });
        return defined({ ScalingActivities: items.map(scalingActivityToWire), NextToken: nextToken });
      },
    },
  };
}
