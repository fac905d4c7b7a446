import type { Platform } from '../../control/platform.ts';
import type { RestJsonService } from '../aws/rest-json-protocol.ts';
import { loadServiceModel } from '../aws/service-model.ts';
import { lambdaWire } from '../wire/lambda-errors.ts';
import { functionOperations } from './functions.ts';
import { invokeOperations } from './invoke.ts';
import { settingOperations } from './settings.ts';

/** AWS Lambda on its REST-JSON wire, SigV4 service `lambda`. */
export function lambdaService(platform: Platform): RestJsonService {
  return {
    signingName: 'lambda',
    model: loadServiceModel('lambda'),
    operations: { ...functionOperations(platform), ...settingOperations(platform), ...invokeOperations(platform) },
    ...lambdaWire,
  };
}
