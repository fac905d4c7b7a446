import type { Platform } from '../../control/platform.ts';
import type { JsonService } from '../aws/json-protocol.ts';
import { loadServiceModel } from '../aws/service-model.ts';
import { sageMakerError } from '../wire/sagemaker-errors.ts';
import { endpointConfigOperations } from './endpoint-configs.ts';
import { endpointOperations } from './endpoints.ts';
import { modelOperations } from './models.ts';
import { tagOperations } from './tags.ts';
import { trainingJobOperations } from './training-jobs.ts';
import { tuningJobOperations } from './tuning-jobs.ts';

/**
 * Kennel accepts `file:///abs/path` wherever SageMaker takes an s3:// URI, as
 * SageMaker local mode does; the model's own patterns allow only s3 and https.
 */
const WITH_FILE_URIS = '^((https|s3)://([^/]+)/?(.*)|file://(localhost)?/.*)$';

/** The SageMaker control plane (JSON 1.1, `X-Amz-Target: SageMaker.<Operation>`, SigV4 service `sagemaker`). */
export function sageMakerService(platform: Platform): JsonService {
  return {
    targetPrefix: 'SageMaker',
    signingName: 'sagemaker',
    model: loadServiceModel('sagemaker'),
    operations: {
      ...trainingJobOperations(platform),
      ...tuningJobOperations(platform),
      ...modelOperations(platform),
      ...endpointConfigOperations(platform),
      ...endpointOperations(platform),
      ...tagOperations(platform),
    },
    errorFor: sageMakerError,
    validation: { overrides: { S3Uri: { pattern: WITH_FILE_URIS }, Url: { pattern: WITH_FILE_URIS } } },
  };
}
