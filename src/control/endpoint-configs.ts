import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import type { BatchingPolicy } from '../domain/serving/batching.ts';
import type { EndpointConfig, ProductionVariant } from '../domain/serving/endpoint.ts';
import { instanceVcpus } from '../domain/training/instance-types.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import type { ControlDeps } from './deps.ts';
import { assertResourceNameFree, createResource, requireResource, resourceNotFound } from './sagemaker-resources.ts';

export interface CreateEndpointConfigInput {
  name: string;
  productionVariants: {
    variantName: string;
    modelName: string;
    initialInstanceCount?: number;
    instanceType?: string;
    initialVariantWeight?: number;
    /** ServerlessConfig: endpoints without instances, which Kennel does not run. */
    serverless?: boolean;
    /** Kennel's extension member KennelBatching. */
    batching?: BatchingPolicy;
  }[];
  tags?: Tag[];
}

/** SageMaker's default when a variant names no instance type is to refuse; Kennel defaults to a 2-vCPU instance. */
const DEFAULT_INSTANCE_TYPE = 'ml.m5.large';
/** SageMaker's quota of production variants per endpoint config. */
export const MAX_VARIANTS = 10;
/** Bounds of the KennelBatching extension: beyond them a batch costs more latency than it saves. */
export const MAX_BATCH_SIZE = 64;
export const MAX_BATCH_DELAY_MS = 1000;

export class EndpointConfigService {
  constructor(private readonly deps: ControlDeps) {}

  create(input: CreateEndpointConfigInput): EndpointConfig {
    const name = assertResourceName('EndpointConfig', input.name);
    const { store, clock } = this.deps;
    assertResourceNameFree(store.endpointConfigs, 'endpoint-config', name);
    const count = input.productionVariants.length;
    if (count < 1 || count > MAX_VARIANTS) {
      throw new DomainError('ValidationError', `An endpoint config needs 1 to ${MAX_VARIANTS} production variants (got ${count})`, { field: 'ProductionVariants' });
    }
    const names = input.productionVariants.map((variant) => variant.variantName);
    const repeated = names.find((variantName, index) => names.indexOf(variantName) !== index);
    if (repeated !== undefined) {
      throw new DomainError('ValidationError', `The variant name ${repeated} appears more than once: each production variant needs a name of its own`, {
        field: 'ProductionVariants',
      });
    }
    const productionVariants: ProductionVariant[] = input.productionVariants.map((variant, index) => {
      const field = `ProductionVariants[${index}]`;
      if (variant.serverless) {
        throw new DomainError('ValidationError', `${field}.ServerlessConfig is not supported; give InstanceType and InitialInstanceCount`, {
          field: `${field}.ServerlessConfig`,
        });
      }
      if (!store.models.get(variant.modelName)) throw resourceNotFound('model', variant.modelName);
      const instanceType = variant.instanceType ?? DEFAULT_INSTANCE_TYPE;
      instanceVcpus(instanceType);
      if (variant.batching) assertBatching(variant.batching, `${field}.KennelBatching`);
      return {
        variantName: variant.variantName,
        modelName: variant.modelName,
        initialInstanceCount: variant.initialInstanceCount ?? 1,
        instanceType,
        initialVariantWeight: variant.initialVariantWeight ?? 1,
        batching: variant.batching,
      };
    });
    if (productionVariants.every((variant) => variant.initialVariantWeight === 0)) {
      throw new DomainError('ValidationError', 'At least one production variant needs an InitialVariantWeight above 0, or no request could be routed', {
        field: 'ProductionVariants',
      });
    }
    const config: EndpointConfig = { name, productionVariants, tags: mergeTags([], input.tags ?? []), createdAtMs: clock.now() };
    createResource(store.endpointConfigs, 'endpoint-config', config);
    return config;
  }

  describe(name: string): EndpointConfig {
    return requireResource(this.deps.store.endpointConfigs, 'endpoint-config', name);
  }

  list(): EndpointConfig[] {
    return this.deps.store.endpointConfigs.list();
  }

  delete(name: string): void {
    if (!this.deps.store.endpointConfigs.delete(name)) throw resourceNotFound('endpoint-config', name);
  }
}

function assertBatching(batching: BatchingPolicy, field: string): void {
  const { maxBatchSize, maxDelayMs } = batching;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > MAX_BATCH_SIZE) {
    throw new DomainError('ValidationError', `${field}.MaxBatchSize must be a whole number from 1 to ${MAX_BATCH_SIZE} (got ${maxBatchSize})`, {
      field: `${field}.MaxBatchSize`,
    });
  }
  if (!Number.isInteger(maxDelayMs) || maxDelayMs < 0 || maxDelayMs > MAX_BATCH_DELAY_MS) {
    throw new DomainError('ValidationError', `${field}.MaxQueueDelayMilliseconds must be a whole number from 0 to ${MAX_BATCH_DELAY_MS} (got ${maxDelayMs})`, {
      field: `${field}.MaxQueueDelayMilliseconds`,
    });
  }
}
