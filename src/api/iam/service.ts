import type { Platform } from '../../control/platform.ts';
import type { QueryService } from '../aws/query-protocol.ts';
import { loadServiceModel } from '../aws/service-model.ts';
import { iamError } from '../wire/iam-errors.ts';
import { accessKeyOperations, roleOperations, userOperations } from './identities.ts';
import { identityPolicyOperations, managedPolicyOperations } from './policies.ts';
import { simulationOperations } from './simulation.ts';

/** IAM (query protocol, Version 2010-05-08, SigV4 service `iam`). */
export function iamService(platform: Platform): QueryService {
  return {
    signingName: 'iam',
    model: loadServiceModel('iam'),
    operations: {
      ...userOperations(platform),
      ...roleOperations(platform),
      ...accessKeyOperations(platform),
      ...managedPolicyOperations(platform),
      ...identityPolicyOperations(platform),
      ...simulationOperations(platform),
    },
    errorFor: iamError,
  };
}
