import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import { ACCOUNT_ID } from '../domain/iam/arn.ts';
import type { Endpoint } from '../domain/serving/endpoint.ts';
import { assertAcceptsJson, parseInvocationBody, resolveTopK } from '../domain/serving/invocation.ts';
import type { Prediction } from '../domain/serving/predictions.ts';
import { safeFetch } from '../runtime/fetch/safe-fetch.ts';
import type { ControlDeps } from './deps.ts';
import { assertNameFree, requireRecord } from './records.ts';
import type { ReplicaRegistry } from './replicas.ts';

export interface CreateEndpointInput {
  name: string;
  endpointConfigName: string;
}

export interface InvokeEndpointInput {
  contentType: string | undefined;
  accept?: string;
  body: Uint8Array;
  /** SageMaker's CustomAttributes header, passed through to the model (`top_k=3`, `top_k=all`). */
  customAttributes?: string;
}

export interface InvokeEndpointResult {
  variantName: string;
  body: { predictions: Prediction[]; model: string };
}

export class EndpointService {
  constructor(
    private readonly deps: ControlDeps,
    private readonly replicas: ReplicaRegistry,
    private readonly onChange: () => void,
  ) {}

  create(input: CreateEndpointInput): Endpoint {
    const name = assertResourceName('Endpoint', input.name);
    const { store, clock } = this.deps;
    assertNameFree(store.endpoints, 'Endpoint', name);
    const config = store.endpointConfigs.get(input.endpointConfigName);
    if (!config) {
      throw new DomainError('NotFound', `Endpoint config ${input.endpointConfigName} does not exist`, {
        field: 'endpointConfigName',
      });
    }
    const productionVariants = config.productionVariants.map((variant) => {
      const model = store.models.get(variant.modelName);
      if (!model) {
        throw new DomainError('NotFound', `Model ${variant.modelName} of endpoint config ${config.name} does not exist`);
      }
      return { variantName: variant.variantName, modelName: model.name, backbone: model.backbone, artifacts: model.artifacts };
    });
    const now = clock.now();
    const endpoint: Endpoint = {
      name,
      endpointConfigName: input.endpointConfigName,
      productionVariants,
      status: 'Creating',
      createdAtMs: now,
      lastModifiedAtMs: now,
    };
    store.endpoints.create(endpoint);
    this.onChange();
    return endpoint;
  }

  describe(name: string): Endpoint {
    return requireRecord(this.deps.store.endpoints, 'Endpoint', name);
  }

  list(): Endpoint[] {
    return this.deps.store.endpoints.list();
  }

  delete(name: string): Endpoint {
    this.describe(name);
    const endpoint = this.deps.store.endpoints.update(name, { status: 'Deleting', lastModifiedAtMs: this.deps.clock.now() });
    this.onChange();
    return endpoint;
  }

  async invoke(name: string, input: InvokeEndpointInput): Promise<InvokeEndpointResult> {
    const endpoint = this.deps.store.endpoints.get(name);
    if (!endpoint) {
      throw new DomainError('NotFound', `Endpoint ${name} of account ${ACCOUNT_ID} not found.`);
    }
    if (endpoint.status === 'Failed') {
      throw new DomainError('ValidationError', `Endpoint ${name} is Failed: ${endpoint.failureReason ?? 'no reason recorded'}`);
    }
    const lease = endpoint.status === 'InService' ? this.replicas.acquire(name) : undefined;
    if (!lease) {
      throw new DomainError('ServiceUnavailable', `Endpoint ${name} is ${endpoint.status}, not InService; retry when it is InService`);
    }
    try {
      const { replica } = lease;
      assertAcceptsJson(input.accept);
      const { input: parsed, topK: bodyTopK } = parseInvocationBody(input.contentType, input.body);
      const topK = resolveTopK(input.customAttributes, bodyTopK, replica.classCount);
      const image = parsed.kind === 'image' ? parsed.bytes : (await safeFetch(parsed.url, this.deps.urlFetchPolicy)).bytes;
      const predictions = await replica.classify(image, topK);
      return { variantName: replica.variantName, body: { predictions, model: replica.modelName } };
    } finally {
      lease.release();
    }
  }
}
