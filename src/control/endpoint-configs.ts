import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
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
  }[];
  tags?: Tag[];
}

/** SageMaker's default when a variant names no instance type is to refuse; Kennel defaults to a 2-vCPU instance. */
const DEFAULT_INSTANCE_TYPE = 'ml.m5.large';

export class EndpointConfigService {
  constructor(private readonly deps: ControlDeps) {}

  create(input: CreateEndpointConfigInput): EndpointConfig {
    const name = assertResourceName('EndpointConfig', input.name);
    const { store, clock } = this.deps;
    assertResourceNameFree(store.endpointConfigs, 'endpoint-config', name);
    if (input.productionVariants.length !== 1) {
      throw new DomainError(
        'ValidationError',
        `An endpoint config needs exactly one production variant (got ${input.productionVariants.length}); traffic split across variants is not supported yet`,
        { field: 'ProductionVariants' },
      );
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
      return {
        variantName: variant.variantName,
        modelName: variant.modelName,
        initialInstanceCount: variant.initialInstanceCount ?? 1,
        instanceType,
        initialVariantWeight: variant.initialVariantWeight ?? 1,
      };
    });
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
