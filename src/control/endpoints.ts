import { DomainError, isDomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import { ACCOUNT_ID, sageMakerArn } from '../domain/iam/arn.ts';
import { pickVariant } from '../domain/serving/endpoint-decider.ts';
import type { DeployedVariant, Endpoint, EndpointConfig } from '../domain/serving/endpoint.ts';
import { servingOf } from '../domain/serving/model-serving.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import { assertAcceptsJson, parseInvocationBody, resolveTopK } from '../domain/serving/invocation.ts';
import type { Prediction } from '../domain/serving/predictions.ts';
import { safeFetch } from '../runtime/fetch/safe-fetch.ts';
import type { ControlDeps } from './deps.ts';
import type { ClassifierInstance, ScriptInstance, ScriptResponse } from '../runtime/serving/instance-types.ts';
import type { InstanceLease, InstanceRegistry } from './instances.ts';
import { createResource, requireResource, resourceExists, resourceNotFound } from './sagemaker-resources.ts';
import type { ServingMetrics } from './serving-metrics.ts';
import type { VariantCapacity, VariantScaling } from './variant-scaling.ts';

export interface CreateEndpointInput {
  name: string;
  endpointConfigName: string;
  tags?: Tag[];
}

export interface UpdateEndpointInput {
  name: string;
  endpointConfigName: string;
  /** Keep each variant's current instance count and weight where the new config has a variant of the same name. */
  retainAllVariantProperties?: boolean;
}

export interface DesiredWeightAndCapacity {
  variantName: string;
  desiredWeight?: number;
  desiredInstanceCount?: number;
}

/** The most instances Kennel runs for one production variant: each is a worker thread with its own copy of the model. */
export const MAX_INSTANCES_PER_VARIANT = 8;

export interface InvokeEndpointInput {
  contentType: string | undefined;
  accept?: string;
  body: Uint8Array;
  /** SageMaker's CustomAttributes header, passed through to the model (`top_k=3`, `top_k=all`). */
  customAttributes?: string;
  /** SageMaker's TargetVariant: the variant to invoke, whatever the weights say. */
  targetVariant?: string;
}

/** The built-in classifier's answer, sent as JSON. */
export interface ClassificationBody {
  predictions: Prediction[];
  model: string;
}

/** An ONNX classifier's predictions, or an inference script's answer as it gave it. */
export type InvokeEndpointResult = { variantName: string } & ({ kind: 'classification'; body: ClassificationBody } | { kind: 'script'; contentType: string; body: Uint8Array });

export class EndpointService implements VariantScaling {
  constructor(
    private readonly deps: ControlDeps,
    private readonly instances: InstanceRegistry,
    private readonly metrics: ServingMetrics,
    private readonly onChange: () => void,
    /** Uniform in [0, 1): which variant a request goes to, by weight. */
    private readonly random: () => number = Math.random,
  ) {}

  create(input: CreateEndpointInput): Endpoint {
    const name = assertResourceName('Endpoint', input.name);
    const { store, clock } = this.deps;
    // SageMaker: "The name is case-insensitive in CreateEndpoint, but the case is preserved and must be matched in InvokeEndpoint."
    const taken = store.endpoints.list().find((endpoint) => endpoint.name.toLowerCase() === name.toLowerCase());
    if (taken) throw resourceExists('endpoint', taken.name);
    const now = clock.now();
    const endpoint: Endpoint = {
      name,
      endpointConfigName: input.endpointConfigName,
      productionVariants: this.deployedVariants(input.endpointConfigName),
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
    this.metrics.forget(name);
    this.onChange();
    return endpoint;
  }

  /**
   * UpdateEndpoint: records the new config's variants as the pending deployment and marks the
   * endpoint Updating; the controller starts them beside the serving ones (blue/green).
   */
  update(input: UpdateEndpointInput): Endpoint {
    const current = this.requireUpdatable(input.name);
    const productionVariants = this.deployedVariants(input.endpointConfigName).map((variant) => {
      const running = input.retainAllVariantProperties ? current.productionVariants.find((old) => old.variantName === variant.variantName) : undefined;
      return running ? { ...variant, instanceCount: running.instanceCount, weight: running.weight } : variant;
    });
    const now = this.deps.clock.now();
    const endpoint = this.deps.store.endpoints.update(input.name, {
      pendingDeployment: { endpointConfigName: input.endpointConfigName, productionVariants, startedAtMs: now },
      status: 'Updating',
      failureReason: undefined,
      lastModifiedAtMs: now,
    });
    this.onChange();
    return endpoint;
  }

  /**
   * UpdateEndpointWeightsAndCapacities: new DesiredWeight and DesiredInstanceCount for some
   * variants, applied in place (no new deployment). The controller starts or drains instances,
   * and the new weights take effect once the counts are met (CurrentWeight until then); the
   * endpoint is Updating meanwhile.
   */
  updateWeightsAndCapacities(name: string, desired: readonly DesiredWeightAndCapacity[]): Endpoint {
    const current = this.requireUpdatable(name);
    const names = current.productionVariants.map((variant) => variant.variantName);
    for (const [index, change] of desired.entries()) {
      const field = `DesiredWeightsAndCapacities[${index}]`;
      if (!names.includes(change.variantName)) {
        throw new DomainError('ValidationError', `The variant(s) "[${change.variantName}]" is/are not present for endpoint "${sageMakerArn('endpoint', name)}".`, {
          field: `${field}.VariantName`,
        });
      }
      if (change.desiredInstanceCount !== undefined) assertInstanceCount(change.desiredInstanceCount, `${field}.DesiredInstanceCount`, 'DesiredInstanceCount');
      if (change.desiredWeight !== undefined && !(change.desiredWeight >= 0)) {
        throw new DomainError('ValidationError', `${field}.DesiredWeight must be 0 or more (got ${change.desiredWeight})`, { field: `${field}.DesiredWeight` });
      }
    }
    const productionVariants = current.productionVariants.map((variant): DeployedVariant => {
      const change = desired.find((candidate) => candidate.variantName === variant.variantName);
      if (!change) return variant;
      const weight = change.desiredWeight ?? variant.weight;
      return {
        ...variant,
        instanceCount: change.desiredInstanceCount ?? variant.instanceCount,
        weight,
        currentWeight: weight === variant.weight ? variant.currentWeight : (variant.currentWeight ?? variant.weight),
      };
    });
    if (productionVariants.every((variant) => variant.weight === 0)) {
      throw new DomainError('ValidationError', 'At least one variant needs a weight above 0, or no request could be routed', { field: 'DesiredWeightsAndCapacities' });
    }
    const endpoint = this.deps.store.endpoints.update(name, { productionVariants, status: 'Updating', failureReason: undefined, lastModifiedAtMs: this.deps.clock.now() });
    this.onChange();
    return endpoint;
  }

  capacity(endpointName: string, variantName: string): VariantCapacity | undefined {
    const endpoint = this.deps.store.endpoints.get(endpointName);
    if (!endpoint || endpoint.status === 'Deleting') return undefined;
    const variant = endpoint.productionVariants.find((candidate) => candidate.variantName === variantName);
    if (!variant) return undefined;
    return { desired: variant.instanceCount, healthy: this.instances.count(endpointName, variantName) };
  }

  setDesiredInstances(endpointName: string, variantName: string, count: number): void {
    this.updateWeightsAndCapacities(endpointName, [{ variantName, desiredInstanceCount: count }]);
  }

  async invoke(name: string, input: InvokeEndpointInput): Promise<InvokeEndpointResult> {
    const startedMs = performance.now();
    const endpoint = this.deps.store.endpoints.get(name);
    if (!endpoint) {
      throw new DomainError('NotFound', `Endpoint ${name} of account ${ACCOUNT_ID} not found.`);
    }
    if (endpoint.status === 'Failed') {
      throw new DomainError('ValidationError', `Endpoint ${name} is Failed: ${endpoint.failureReason ?? 'no reason recorded'}`);
    }
    if (endpoint.status === 'Deleting') throw new DomainError('ServiceUnavailable', `Endpoint ${name} is Deleting; it takes no more requests`);
    const variantName = this.chooseVariant(endpoint, input.targetVariant);
    let modelLatencyMs: number | undefined;
    try {
      const lease = this.lease(endpoint, variantName);
      if (lease.instance.kind === 'script') {
        const answer = await this.invokeScript(lease as InstanceLease<ScriptInstance>, input);
        modelLatencyMs = answer.modelLatencyMs;
        this.record(name, variantName, 'OK', startedMs, modelLatencyMs, answer.computeMs);
        return { variantName, kind: 'script', contentType: answer.contentType, body: answer.body };
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
      const result = await this.classifyOn(name, lease as InstanceLease<ClassifierInstance>, image, topK, true);
      modelLatencyMs = result.modelLatencyMs;
      this.record(name, result.variantName, 'OK', startedMs, modelLatencyMs, result.computeMs);
      return { variantName: result.variantName, kind: 'classification', body: result.body };
    } catch (error) {
      this.record(name, variantName, isDomainError(error) ? error.code : 'Internal', startedMs, modelLatencyMs);
      throw error;
    }
  }

  /**
   * The request goes to the script as it came, and its answer back as it gave it. A request whose
   * instance died is not sent again to another: the script may be what killed it.
   */
  private async invokeScript(lease: InstanceLease<ScriptInstance>, input: InvokeEndpointInput): Promise<ScriptResponse> {
    try {
      return await lease.instance.invoke({ body: input.body, contentType: input.contentType, accept: input.accept, customAttributes: input.customAttributes });
    } finally {
      lease.release();
    }
  }

  private record(endpointName: string, variantName: string, outcome: string, startedMs: number, modelLatencyMs: number | undefined, computeMs?: number): void {
    const totalMs = performance.now() - startedMs;
    this.metrics.record({
      endpointName,
      variantName,
      outcome,
      atMs: this.deps.clock.now(),
      modelLatencyMs,
      overheadLatencyMs: modelLatencyMs === undefined ? undefined : Math.max(0, totalMs - modelLatencyMs),
      computeMs,
    });
  }

  /** The variant to send to: TargetVariant, or one picked by weight (no spill-over to others, as on SageMaker). */
  private chooseVariant(endpoint: Endpoint, targetVariant: string | undefined): string {
    const variants = endpoint.productionVariants.map((variant) => ({ variantName: variant.variantName, weight: variant.currentWeight ?? variant.weight }));
    if (targetVariant !== undefined) {
      if (!variants.some((variant) => variant.variantName === targetVariant)) {
        throw new DomainError(
          'ValidationError',
          `TargetVariant ${targetVariant} is not a production variant of endpoint ${endpoint.name}; its variants are ${variants.map((variant) => variant.variantName).join(', ')}`,
          { field: 'TargetVariant' },
        );
      }
      return targetVariant;
    }
    const picked = pickVariant(variants, this.random());
    // Configs and updates refuse all-zero weights, so this is a record written some other way.
    if (!picked) throw new DomainError('ValidationError', `Every variant of endpoint ${endpoint.name} has weight 0; name one with TargetVariant`);
    return picked.variantName;
  }

  private lease(endpoint: Endpoint, variantName: string): InstanceLease {
    const { name } = endpoint;
    const limit = this.deps.limits.maxRequestsPerInstance;
    const lease = this.instances.acquire(name, variantName, { limit });
    if (lease && lease !== 'full') return lease;
    if (lease === 'full') {
      const count = this.instances.count(name, variantName);
      throw new DomainError(
        'ServiceUnavailable',
        `Endpoint ${name} is at capacity: each of its ${count} instance${count === 1 ? '' : 's'} holds ${limit} requests, the most Kennel queues. Retry with backoff, or add instances`,
      );
    }
    if (this.instances.has(name)) {
      throw new DomainError('ServiceUnavailable', `Endpoint ${name} has no instance ready for variant ${variantName} (one is being replaced); retry in a moment`);
    }
    const loading = endpoint.status === 'InService' || endpoint.status === 'SystemUpdating' ? ' (its model is loading)' : '';
    throw new DomainError('ServiceUnavailable', `Endpoint ${name} is ${endpoint.status === 'InService' ? 'SystemUpdating' : endpoint.status}${loading}, not InService yet; retry in a moment`);
  }

  /** Classifies on the leased instance; a request whose instance died goes once to another of its variant, if there is one. */
  private async classifyOn(
    name: string,
    lease: InstanceLease<ClassifierInstance>,
    image: Uint8Array,
    topK: number,
    mayRetry: boolean,
  ): Promise<{ variantName: string; body: ClassificationBody; modelLatencyMs: number; computeMs: number }> {
    const { instance } = lease;
    try {
      const { predictions, modelLatencyMs, computeMs } = await instance.classify(image, topK);
      return { variantName: instance.variantName, body: { predictions, model: instance.modelName }, modelLatencyMs, computeMs };
    } catch (error) {
      const other = mayRetry && !instance.alive ? this.instances.acquire(name, instance.variantName, { except: instance, limit: this.deps.limits.maxRequestsPerInstance }) : undefined;
      if (!other || other === 'full') throw error;
      lease.release();
      return this.classifyOn(name, other as InstanceLease<ClassifierInstance>, image, topK, false);
    } finally {
      lease.release();
    }
  }

  /** An update is refused unless the endpoint is InService, as SageMaker refuses one while another is in progress. */
  private requireUpdatable(name: string): Endpoint {
    const endpoint = this.describe(name);
    if (endpoint.status !== 'InService') {
      throw new DomainError('ValidationError', `Cannot update in-progress endpoint "${sageMakerArn('endpoint', name)}". It is ${endpoint.status}; wait until it is InService.`, {
        status: endpoint.status,
      });
    }
    return endpoint;
  }

  /** The config's variants, resolved against their models now: what the endpoint will serve. */
  private deployedVariants(endpointConfigName: string): DeployedVariant[] {
    const { store } = this.deps;
    const config: EndpointConfig | undefined = store.endpointConfigs.get(endpointConfigName);
    if (!config) throw resourceNotFound('endpoint-config', endpointConfigName);
    return config.productionVariants.map((variant): DeployedVariant => {
      const model = store.models.get(variant.modelName);
      if (!model) throw resourceNotFound('model', variant.modelName);
      assertInstanceCount(variant.initialInstanceCount, 'InitialInstanceCount', `'${variant.instanceType} for endpoint usage'`);
      return {
        variantName: variant.variantName,
        modelName: model.name,
        image: model.image,
        instanceType: variant.instanceType,
        instanceCount: variant.initialInstanceCount,
        weight: variant.initialVariantWeight,
        batching: variant.batching ?? batchingFromEnvironment(model.environment),
        ...servingOf(model),
      };
    });
  }
}

function assertInstanceCount(count: number, field: string, what: string): void {
  if (!Number.isInteger(count) || count < 1) {
    throw new DomainError('ValidationError', `${field} must be a whole number of at least 1 (got ${count})`, { field });
  }
  if (count > MAX_INSTANCES_PER_VARIANT) {
    throw new DomainError(
      'LimitExceeded',
      `The account-level service limit ${what} is ${MAX_INSTANCES_PER_VARIANT} Instances, and ${count} Instances were asked for. ` +
        `Kennel runs at most ${MAX_INSTANCES_PER_VARIANT} instances per production variant; lower ${field.split('.').at(-1)}.`,
      { field },
    );
  }
}

/**
 * SageMaker's PyTorch and TorchServe containers batch by their model's environment
 * (SAGEMAKER_TS_BATCH_SIZE, SAGEMAKER_TS_MAX_BATCH_DELAY in ms); Kennel honours the same
 * variables when the variant has no KennelBatching, so models configured for SageMaker batch here too.
 */
function batchingFromEnvironment(environment: Record<string, string>): { maxBatchSize: number; maxDelayMs: number } | undefined {
  const size = Number(environment.SAGEMAKER_TS_BATCH_SIZE);
  if (!Number.isInteger(size) || size < 2) return undefined;
  const delay = Number(environment.SAGEMAKER_TS_MAX_BATCH_DELAY ?? 100);
  return { maxBatchSize: Math.min(size, 64), maxDelayMs: Number.isFinite(delay) && delay >= 0 ? Math.min(delay, 1000) : 100 };
}
