import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import type { EndpointConfig, ProductionVariant } from '../domain/serving/endpoint.ts';
import type { ControlDeps } from './deps.ts';
import { assertNameFree, deleteRecord, requireRecord } from './records.ts';

export interface CreateEndpointConfigInput {
  name: string;
  productionVariants: {
    variantName?: string;
    modelName: string;
    initialInstanceCount?: number;
    instanceType?: string;
  }[];
}

/** Kennel runs every variant on this machine; the instance type is recorded for SageMaker parity. */
const LOCAL_INSTANCE_TYPE = 'local.cpu';

export class EndpointConfigService {
  constructor(private readonly deps: ControlDeps) {}

  create(input: CreateEndpointConfigInput): EndpointConfig {
    const name = assertResourceName('EndpointConfig', input.name);
    const { store, clock } = this.deps;
    assertNameFree(store.endpointConfigs, 'Endpoint config', name);
    if (input.productionVariants.length !== 1) {
      throw new DomainError('ValidationError', 'An endpoint config needs exactly one production variant', {
        field: 'productionVariants',
      });
    }
    const productionVariants: ProductionVariant[] = input.productionVariants.map((variant, index) => {
      if (!store.models.get(variant.modelName)) {
        throw new DomainError('NotFound', `Model ${variant.modelName} does not exist`, {
          field: `productionVariants[${index}].modelName`,
        });
      }
      const count = variant.initialInstanceCount ?? 1;
      if (count !== 1) {
        throw new DomainError('ValidationError', `initialInstanceCount must be 1 (got ${count}); one instance per variant is supported`, {
          field: `productionVariants[${index}].initialInstanceCount`,
        });
      }
      return {
        variantName: assertResourceName('Variant', variant.variantName ?? 'AllTraffic'),
        modelName: variant.modelName,
        initialInstanceCount: count,
        instanceType: variant.instanceType ?? LOCAL_INSTANCE_TYPE,
      };
    });
    const config: EndpointConfig = { name, productionVariants, createdAtMs: clock.now() };
    store.endpointConfigs.create(config);
    return config;
  }

  describe(name: string): EndpointConfig {
    return requireRecord(this.deps.store.endpointConfigs, 'Endpoint config', name);
  }

  list(): EndpointConfig[] {
    return this.deps.store.endpointConfigs.list();
  }

  delete(name: string): void {
    deleteRecord(this.deps.store.endpointConfigs, 'Endpoint config', name);
  }
}
