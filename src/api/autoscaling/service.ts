import type { Platform } from '../../control/platform.ts';
import type { JsonService } from '../aws/json-protocol.ts';
import { loadServiceModel } from '../aws/service-model.ts';
import { autoscalingError } from '../wire/autoscaling-errors.ts';
import { scalableTargetOperations } from './scalable-targets.ts';
import { scalingActivityOperations } from './scaling-activities.ts';
import { scalingPolicyOperations } from './scaling-policies.ts';

/** Application Auto Scaling (JSON 1.1, `X-Amz-Target: AnyScaleFrontendService.<Operation>`, SigV4 service `application-autoscaling`). */
export function autoscalingService(platform: Platform): JsonService {
  return {
    targetPrefix: 'AnyScaleFrontendService',
    signingName: 'application-autoscaling',
    model: loadServiceModel('application-autoscaling'),
    operations: {
      ...scalableTargetOperations(platform),
      ...scalingPolicyOperations(platform),
      ...scalingActivityOperations(platform),
    },
    errorFor: autoscalingError,
  };
}
