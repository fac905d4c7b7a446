import { DomainError } from '../core/errors.ts';
import { sageMakerArn, type SageMakerResourceType } from '../domain/iam/arn.ts';
import type { ResourceTable } from '../store/store.ts';

/**
 * Missing and duplicate SageMaker resources, in the words SageMaker itself uses:
 * code written against AWS matches on these messages ("Could not find endpoint"),
 * and the waiters treat the resulting ValidationException as "gone".
 */
const NOUNS: Record<SageMakerResourceType, string> = {
  'training-job': 'training job',
  model: 'model',
  'endpoint-config': 'endpoint configuration',
  endpoint: 'endpoint',
  'hyper-parameter-tuning-job': 'hyperparameter tuning job',
};

export function resourceNotFound(type: SageMakerResourceType, name: string): DomainError {
  const message =
    type === 'training-job'
      ? 'Requested resource not found.'
      : type === 'hyper-parameter-tuning-job'
        ? `Amazon SageMaker can't find a tuning job with name ${name}`
        : `Could not find ${NOUNS[type]} "${sageMakerArn(type, name)}".`;
  return new DomainError('NotFound', message, { resourceType: type, name });
}

export function resourceExists(type: SageMakerResourceType, name: string): DomainError {
  const arn = sageMakerArn(type, name);
  const message =
    type === 'training-job' || type === 'hyper-parameter-tuning-job'
      ? `${type === 'training-job' ? 'Training job' : 'Hyperparameter tuning job'} names must be unique within an AWS account and region, and a ${NOUNS[type]} with this name already exists (${arn})`
      : `Cannot create already existing ${NOUNS[type]} "${arn}".`;
  return new DomainError('AlreadyExists', message, { resourceType: type, name });
}

export function requireResource<T extends { name: string }>(table: ResourceTable<T>, type: SageMakerResourceType, name: string): T {
  const record = table.get(name);
  if (!record) throw resourceNotFound(type, name);
  return record;
}

/** Creates the record, turning the store's refusal of a taken name (a race with another create) into SageMaker's words. */
export function createResource<T extends { name: string }>(table: ResourceTable<T>, type: SageMakerResourceType, record: T): void {
  try {
    table.create(record);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'AlreadyExists') throw resourceExists(type, record.name);
    throw error;
  }
}

/** Refuses a taken name before a create does its work (reading data, importing a backbone). */
export function assertResourceNameFree<T extends { name: string }>(table: ResourceTable<T>, type: SageMakerResourceType, name: string): void {
  if (table.get(name)) throw resourceExists(type, name);
}
