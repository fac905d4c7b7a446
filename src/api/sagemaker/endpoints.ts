import { DomainError } from '../../core/errors.ts';
import type { Platform } from '../../control/platform.ts';
import { sageMakerArn } from '../../domain/iam/arn.ts';
import type { DeployedVariant, Endpoint } from '../../domain/serving/endpoint.ts';
import type { JsonOperation } from '../aws/json-protocol.ts';
import { listPage, type ListRequest } from '../aws/list-page.ts';
import { defined, epochSeconds, tagsFromWire, type WireTag } from './wire.ts';

interface UpdateEndpointInput {
  EndpointName: string;
  EndpointConfigName: string;
  RetainAllVariantProperties?: boolean;
  ExcludeRetainedVariantProperties?: { VariantPropertyType: string }[];
  RetainDeploymentConfig?: boolean;
  DeploymentConfig?: {
    BlueGreenUpdatePolicy?: { TrafficRoutingConfiguration?: { Type?: string } };
    AutoRollbackConfiguration?: unknown;
  };
}

/** CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint, UpdateEndpointWeightsAndCapacities and DeleteEndpoint. */
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
      handler: (input: { EndpointName: string }) => describeEndpoint(platform.endpoints.describe(input.EndpointName), platform),
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
    UpdateEndpoint: {
      handler: (input: UpdateEndpointInput) => {
        // Kennel's updates are blue/green with all traffic switched at once, and roll back when the new config cannot load.
        const routing = input.DeploymentConfig?.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration?.Type;
        if (routing !== undefined && routing !== 'ALL_AT_ONCE') {
          throw new DomainError('ValidationError', `TrafficRoutingConfiguration Type ${routing} is not supported; Kennel switches traffic ALL_AT_ONCE once the new instances are healthy`, {
            field: 'DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.Type',
          });
        }
        if (input.ExcludeRetainedVariantProperties?.length) {
          throw new DomainError('ValidationError', 'ExcludeRetainedVariantProperties is not supported; retain all variant properties or none', {
            field: 'ExcludeRetainedVariantProperties',
          });
        }
        const endpoint = platform.endpoints.update({
          name: input.EndpointName,
          endpointConfigName: input.EndpointConfigName,
          retainAllVariantProperties: input.RetainAllVariantProperties,
        });
        return { EndpointArn: sageMakerArn('endpoint', endpoint.name) };
      },
    },
    UpdateEndpointWeightsAndCapacities: {
      handler: (input: { EndpointName: string; DesiredWeightsAndCapacities: { VariantName: string; DesiredWeight?: number; DesiredInstanceCount?: number }[] }) => {
        const endpoint = platform.endpoints.updateWeightsAndCapacities(
          input.EndpointName,
          input.DesiredWeightsAndCapacities.map((desired) => ({
            variantName: desired.VariantName,
            desiredWeight: desired.DesiredWeight,
            desiredInstanceCount: desired.DesiredInstanceCount,
          })),
        );
        return { EndpointArn: sageMakerArn('endpoint', endpoint.name) };
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
 * runs and is healthy now (fewer while instances start or a dead one is replaced),
 * DesiredInstanceCount what should; CurrentWeight and DesiredWeight differ while new weights are
 * applied. An update in progress shows as PendingDeploymentSummary.
 */
function describeEndpoint(endpoint: Endpoint, platform: Platform): Record<string, unknown> {
  const deployed = platform.instances.has(endpoint.name) || (endpoint.status !== 'Creating' && endpoint.status !== 'Failed' && endpoint.status !== 'SystemUpdating');
  const pending = endpoint.pendingDeployment;
  const images = (variant: DeployedVariant) => [{ SpecifiedImage: variant.image, ResolvedImage: variant.image, ResolutionTime: epochSeconds(endpoint.createdAtMs) }];
  return defined({
    EndpointName: endpoint.name,
    EndpointArn: sageMakerArn('endpoint', endpoint.name),
    EndpointConfigName: endpoint.endpointConfigName,
    ProductionVariants: deployed
      ? endpoint.productionVariants.map((variant) => {
          const current = platform.instances.count(endpoint.name, variant.variantName);
          return defined({
            VariantName: variant.variantName,
            DeployedImages: images(variant),
            CurrentWeight: variant.currentWeight ?? variant.weight,
            DesiredWeight: variant.weight,
            CurrentInstanceCount: current,
            DesiredInstanceCount: variant.instanceCount,
            VariantStatus:
              current === variant.instanceCount && variant.currentWeight === undefined
                ? undefined
                : [{ Status: variant.currentWeight !== undefined && current === variant.instanceCount ? 'ActivatingTraffic' : 'Updating', StartTime: epochSeconds(endpoint.lastModifiedAtMs) }],
          });
        })
      : undefined,
    PendingDeploymentSummary: pending
      ? {
          EndpointConfigName: pending.endpointConfigName,
          StartTime: epochSeconds(pending.startedAtMs),
          ProductionVariants: pending.productionVariants.map((variant) => ({
            VariantName: variant.variantName,
            DeployedImages: images(variant),
            CurrentWeight: 0,
            DesiredWeight: variant.weight,
            CurrentInstanceCount: 0,
            DesiredInstanceCount: variant.instanceCount,
            InstanceType: variant.instanceType,
            VariantStatus: [{ Status: 'Creating', StartTime: epochSeconds(pending.startedAtMs) }],
          })),
        }
      : undefined,
    EndpointStatus: endpoint.status,
    FailureReason: endpoint.failureReason,
    CreationTime: epochSeconds(endpoint.createdAtMs),
    LastModifiedTime: epochSeconds(endpoint.lastModifiedAtMs),
  });
}
