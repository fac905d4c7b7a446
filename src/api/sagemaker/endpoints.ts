import type { Platform } from '../../control/platform.ts';
import { sageMakerArn } from '../../domain/iam/arn.ts';
import type { Endpoint } from '../../domain/serving/endpoint.ts';
import type { JsonOperation } from '../aws/json-protocol.ts';
import { listPage, type ListRequest } from '../aws/list-page.ts';
import { defined, epochSeconds, tagsFromWire, type WireTag } from './wire.ts';

/** CreateEndpoint, DescribeEndpoint, ListEndpoints and DeleteEndpoint. */
export function endpointOperations(platform: Platform): Record<string, JsonOperation> {
  return {
    CreateEndpoint: {
      handler: (input: { EndpointName: string; EndpointConfigName: string; Tags?: WireTag[] }) => {
        const endpoint = platform.endpoints.create({
          name: input.EndpointName,
          endpointConfigName: input.EndpointConfigName,
          tags: tagsFromWire(input.Tags),
        });
        return { EndpointArn: sageMakerArn('endpoint', endpoint.name) };
      },
    },
    DescribeEndpoint: {
      handler: (input: { EndpointName: string }) => {
        const endpoint = platform.endpoints.describe(input.EndpointName);
        return describeEndpoint(endpoint, platform.instances.count(endpoint.name));
      },
    },
    ListEndpoints: {
      handler: (input: ListRequest) => {
        const { items, nextToken } = listPage(platform.endpoints.list(), input, (endpoint) => ({
          name: endpoint.name,
          createdAtMs: endpoint.createdAtMs,
          lastModifiedAtMs: endpoint.lastModifiedAtMs,
          status: endpoint.status,
        }));
        return defined({
          Endpoints: items.map((endpoint) => ({
            EndpointName: endpoint.name,
            EndpointArn: sageMakerArn('endpoint', endpoint.name),
            CreationTime: epochSeconds(endpoint.createdAtMs),
            LastModifiedTime: epochSeconds(endpoint.lastModifiedAtMs),
            EndpointStatus: endpoint.status,
          })),
          NextToken: nextToken,
        });
      },
    },
    DeleteEndpoint: {
      handler: (input: { EndpointName: string }) => {
        platform.endpoints.delete(input.EndpointName);
        return {};
      },
    },
  };
}

/**
 * As SageMaker does, the variants appear once they are deployed. CurrentInstanceCount is what
 * runs now (one fewer while a dead instance is replaced), DesiredInstanceCount what should.
 */
function describeEndpoint(endpoint: Endpoint, runningInstances: number): Record<string, unknown> {
  const deployed = endpoint.status === 'InService' || endpoint.status === 'SystemUpdating' || endpoint.status === 'Deleting';
  return defined({
    EndpointName: endpoint.name,
    EndpointArn: sageMakerArn('endpoint', endpoint.name),
    EndpointConfigName: endpoint.endpointConfigName,
    ProductionVariants: deployed
      ? endpoint.productionVariants.map((variant) => ({
          VariantName: variant.variantName,
          DeployedImages: [{ SpecifiedImage: variant.image, ResolvedImage: variant.image, ResolutionTime: epochSeconds(endpoint.createdAtMs) }],
          CurrentWeight: variant.weight,
          DesiredWeight: variant.weight,
          CurrentInstanceCount: runningInstances,
          DesiredInstanceCount: variant.instanceCount,
        }))
      : undefined,
    EndpointStatus: endpoint.status,
    FailureReason: endpoint.failureReason,
    CreationTime: epochSeconds(endpoint.createdAtMs),
    LastModifiedTime: epochSeconds(endpoint.lastModifiedAtMs),
  });
}
