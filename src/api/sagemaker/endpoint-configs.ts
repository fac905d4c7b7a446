import { DomainError } from '../../core/errors.ts';
import type { Platform } from '../../control/platform.ts';
import type { BatchingPolicy } from '../../domain/serving/batching.ts';
import { sageMakerArn } from '../../domain/iam/arn.ts';
import type { JsonOperation } from '../aws/json-protocol.ts';
import { listPage, type ListRequest } from '../aws/list-page.ts';
import { defined, epochSeconds, tagsFromWire, type WireTag } from './wire.ts';

interface CreateEndpointConfigInput {
  EndpointConfigName: string;
  ProductionVariants: {
    VariantName: string;
    ModelName: string;
    InitialInstanceCount?: number;
    InstanceType?: string;
    InitialVariantWeight?: number;
    ServerlessConfig?: unknown;
    /** Kennel's extension member: dynamic batching on each of the variant's instances. */
    KennelBatching?: { MaxBatchSize?: number; MaxQueueDelayMilliseconds?: number };
  }[];
  DataCaptureConfig?: unknown;
  AsyncInferenceConfig?: unknown;
  ShadowProductionVariants?: unknown[];
  Tags?: WireTag[];
}

/** Members that change how an endpoint behaves, which Kennel would otherwise ignore without a word. */
const UNSUPPORTED: [keyof CreateEndpointConfigInput, string][] = [
  ['DataCaptureConfig', 'capturing requests and responses'],
  ['AsyncInferenceConfig', 'asynchronous inference'],
  ['ShadowProductionVariants', 'shadow variants'],
];

/** CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs and DeleteEndpointConfig. */
export function endpointConfigOperations(platform: Platform): Record<string, JsonOperation> {
  return {
    CreateEndpointConfig: {
      handler: (input: CreateEndpointConfigInput) => {
        for (const [member, what] of UNSUPPORTED) {
          if (input[member] !== undefined) throw new DomainError('ValidationError', `${member} (${what}) is not supported yet`, { field: member });
        }
        const config = platform.endpointConfigs.create({
          name: input.EndpointConfigName,
          productionVariants: input.ProductionVariants.map((variant) => ({
            variantName: variant.VariantName,
            modelName: variant.ModelName,
            initialInstanceCount: variant.InitialInstanceCount,
            instanceType: variant.InstanceType,
            initialVariantWeight: variant.InitialVariantWeight,
            serverless: variant.ServerlessConfig !== undefined,
            batching: batchingFromWire(variant.KennelBatching),
          })),
          tags: tagsFromWire(input.Tags),
        });
        return { EndpointConfigArn: sageMakerArn('endpoint-config', config.name) };
      },
    },
    DescribeEndpointConfig: {
      handler: (input: { EndpointConfigName: string }) => {
        const config = platform.endpointConfigs.describe(input.EndpointConfigName);
        return {
          EndpointConfigName: config.name,
          EndpointConfigArn: sageMakerArn('endpoint-config', config.name),
          ProductionVariants: config.productionVariants.map((variant) => ({
            VariantName: variant.variantName,
            ModelName: variant.modelName,
            InitialInstanceCount: variant.initialInstanceCount,
            InstanceType: variant.instanceType,
            InitialVariantWeight: variant.initialVariantWeight,
            KennelBatching: variant.batching ? { MaxBatchSize: variant.batching.maxBatchSize, MaxQueueDelayMilliseconds: variant.batching.maxDelayMs } : undefined,
          })),
          CreationTime: epochSeconds(config.createdAtMs),
        };
      },
    },
    ListEndpointConfigs: {
      handler: (input: ListRequest) => {
        const { items, nextToken } = listPage(platform.endpointConfigs.list(), input, (config) => ({ name: config.name, createdAtMs: config.createdAtMs }));
        return defined({
          EndpointConfigs: items.map((config) => ({
            EndpointConfigName: config.name,
            EndpointConfigArn: sageMakerArn('endpoint-config', config.name),
            CreationTime: epochSeconds(config.createdAtMs),
          })),
          NextToken: nextToken,
        });
      },
    },
    DeleteEndpointConfig: {
      handler: (input: { EndpointConfigName: string }) => {
        platform.endpointConfigs.delete(input.EndpointConfigName);
        return {};
      },
    },
  };
}

/** KennelBatching is outside SageMaker's service model, so its members are checked here; omitted, MaxBatchSize is 1 and the delay 0. */
function batchingFromWire(batching: { MaxBatchSize?: unknown; MaxQueueDelayMilliseconds?: unknown } | undefined): BatchingPolicy | undefined {
  if (batching === undefined) return undefined;
  if (typeof batching !== 'object' || batching === null || Array.isArray(batching)) {
    throw new DomainError('ValidationError', 'KennelBatching must be an object with MaxBatchSize and MaxQueueDelayMilliseconds', { field: 'KennelBatching' });
  }
  const size = batching.MaxBatchSize ?? 1;
  const delay = batching.MaxQueueDelayMilliseconds ?? 0;
  for (const [member, value] of [
    ['MaxBatchSize', size],
    ['MaxQueueDelayMilliseconds', delay],
  ] as const) {
    if (typeof value !== 'number') {
      throw new DomainError('ValidationError', `KennelBatching.${member} must be a number (got ${JSON.stringify(value)})`, { field: `KennelBatching.${member}` });
    }
  }
  return { maxBatchSize: size as number, maxDelayMs: delay as number };
}
