import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import { ACCOUNT_ID } from '../domain/iam/arn.ts';
import type { DeployedVariant, Endpoint } from '../domain/serving/endpoint.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import { assertAcceptsJson, parseInvocationBody, resolveTopK } from '../domain/serving/invocation.ts';
import type { Prediction } from '../domain/serving/predictions.ts';
import { safeFetch } from '../runtime/fetch/safe-fetch.ts';
import type { ControlDeps } from './deps.ts';
import type { InstanceLease, InstanceRegistry } from './instances.ts';
import { createResource, requireResource, resourceExists, resourceNotFound } from './sagemaker-resources.ts';
import type { ServingMetrics } from './serving-metrics.ts';

export interface CreateEndpointInput {
  name: string;
  endpointConfigName: string;
  tags?: Tag[];
}

/** The most instances Kennel runs for one production variant: each is a worker thread with its own copy of the model. */
export const MAX_INSTANCES_PER_VARIANT = 8;

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
    private readonly instances: InstanceRegistry,
    private readonly onChange: () => void,
    private readonly metrics?: ServingMetrics,
  ) {}

  create(input: CreateEndpointInput): Endpoint {
    const name = assertResourceName('Endpoint', input.name);
    const { store, clock } = this.deps;
    // SageMaker: "The name is case-insensitive in CreateEndpoint, but the case is preserved and must be matched in InvokeEndpoint."
    const taken = store.endpoints.list().find((endpoint) => endpoint.name.toLowerCase() === name.toLowerCase());
    if (taken) throw resourceExists('endpoint', taken.name);
    const config = store.endpointConfigs.get(input.endpointConfigName);
    if (!config) throw resourceNotFound('endpoint-config', input.endpointConfigName);
    const productionVariants = config.productionVariants.map((variant): DeployedVariant => {
      const model = store.models.get(variant.modelName);
      if (!model) throw resourceNotFound('model', variant.modelName);
      if (variant.initialInstanceCount > MAX_INSTANCES_PER_VARIANT) {
        throw new DomainError(
          'LimitExceeded',
          `The account-level service limit '${variant.instanceType} for endpoint usage' is ${MAX_INSTANCES_PER_VARIANT} Instances, with current utilization of 0 Instances and a request delta of ${variant.initialInstanceCount} Instances. ` +
            `Kennel runs at most ${MAX_INSTANCES_PER_VARIANT} instances per production variant; lower InitialInstanceCount.`,
        );
      }
      return {
        variantName: variant.variantName,
        modelName: model.name,
        image: model.image,
        instanceType: variant.instanceType,
        instanceCount: variant.initialInstanceCount,
        weight: variant.initialVariantWeight,
        backbone: model.backbone,
        artifacts: model.artifacts,
      };
    });
    const now = clock.now();
    const endpoint: Endpoint = {
      name,
      endpointConfigName: input.endpointConfigName,
      productionVariants,
      status: 'Creating',
      tags: mergeTags([], input.tags ?? []),
      createdAtMs: now,
      lastModifiedAtMs: now,
    };
    createResource(store.endpoints, 'endpoint', endpoint);
    this.onChange();
    return endpoint;
  }

  describe(name: string): Endpoint {
    return requireResource(this.deps.store.endpoints, 'endpoint', name);
  }

  list(): Endpoint[] {
    return this.deps.store.endpoints.list();
  }

  /** Marks the endpoint Deleting; the controller drains its requests and removes it. */
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
    const lease = endpoint.status === 'InService' ? this.instances.acquire(name, { limit: this.deps.limits.maxRequestsPerInstance }) : undefined;
    if (lease === 'full') {
      const count = this.instances.count(name);
      throw new DomainError(
        'ServiceUnavailable',
        `Endpoint ${name} is at capacity: each of its ${count} instance${count === 1 ? '' : 's'} holds ${this.deps.limits.maxRequestsPerInstance} requests, the most Kennel queues. Retry with backoff, or add instances`,
      );
    }
    if (!lease) {
      const loading = endpoint.status === 'InService' || endpoint.status === 'SystemUpdating' ? ' (its model is loading)' : '';
      throw new DomainError('ServiceUnavailable', `Endpoint ${name} is ${endpoint.status === 'InService' ? 'SystemUpdating' : endpoint.status}${loading}, not InService yet; retry in a moment`);
    }
    let image: Uint8Array;
    let topK: number;
    try {
      assertAcceptsJson(input.accept);
      const { input: parsed, topK: bodyTopK } = parseInvocationBody(input.contentType, input.body);
      topK = resolveTopK(input.customAttributes, bodyTopK, lease.instance.classCount);
      image = parsed.kind === 'image' ? parsed.bytes : (await safeFetch(parsed.url, this.deps.urlFetchPolicy)).bytes;
    } catch (error) {
      lease.release();
      throw error;
    }
    return this.classifyOn(name, lease, image, topK, true);
  }

  /** Classifies on the leased instance; a request whose instance died goes once to another, if there is one. */
  private async classifyOn(name: string, lease: InstanceLease, image: Uint8Array, topK: number, mayRetry: boolean): Promise<InvokeEndpointResult> {
    const { instance } = lease;
    const startedMs = performance.now();
    const record = (outcome: string) =>
      this.metrics?.record({
        endpointName: name,
        variantName: instance.variantName,
        outcome,
        atMs: this.deps.clock.now(),
        modelLatencyMs: performance.now() - startedMs,
      });
    try {
      const predictions = await instance.classify(image, topK);
      record('OK');
      return { variantName: instance.variantName, body: { predictions, model: instance.modelName } };
    } catch (error) {
      record(error instanceof DomainError ? error.code : 'Internal');
      const other = mayRetry && !instance.alive ? this.instances.acquire(name, { except: instance }) : undefined;
      if (!other || other === 'full') throw error;
      lease.release();
      return this.classifyOn(name, other, image, topK, false);
    } finally {
      lease.release();
    }
  }
}
