import type { Platform } from '../../control/platform.ts';
import { sageMakerArn } from '../../domain/iam/arn.ts';
import type { JsonOperation } from '../aws/json-protocol.ts';
import { listPage, type ListRequest } from '../aws/list-page.ts';
import { defined, epochSeconds, tagsFromWire, type WireTag } from './wire.ts';

interface ContainerDefinition {
  Image?: string;
  ModelDataUrl?: string;
  Environment?: Record<string, string>;
}

interface CreateModelInput {
  ModelName: string;
  PrimaryContainer?: ContainerDefinition;
  Containers?: ContainerDefinition[];
  ExecutionRoleArn: string;
  Tags?: WireTag[];
}

/** CreateModel, DescribeModel, ListModels and DeleteModel. */
export function modelOperations(platform: Platform): Record<string, JsonOperation> {
  return {
    CreateModel: {
      handler: async (input: CreateModelInput) => {
        // A single entry in Containers is the same as PrimaryContainer, as on SageMaker.
        const containers = input.Containers ?? [];
        const container = input.PrimaryContainer ?? (containers.length === 1 ? containers[0] : undefined);
        const model = await platform.models.create({
          name: input.ModelName,
          executionRoleArn: input.ExecutionRoleArn,
          image: container?.Image,
          modelDataUrl: container?.ModelDataUrl,
          environment: container?.Environment,
          hasContainerList: containers.length > 1 || (input.PrimaryContainer !== undefined && containers.length > 0),
          tags: tagsFromWire(input.Tags),
        });
        return { ModelArn: sageMakerArn('model', model.name) };
      },
    },
    DescribeModel: {
      handler: (input: { ModelName: string }) => {
        const model = platform.models.describe(input.ModelName);
        return {
          ModelName: model.name,
          PrimaryContainer: defined({ Image: model.image, Mode: 'SingleModel', ModelDataUrl: model.modelDataUrl, Environment: model.environment }),
          ExecutionRoleArn: model.executionRoleArn,
          CreationTime: epochSeconds(model.createdAtMs),
          ModelArn: sageMakerArn('model', model.name),
          EnableNetworkIsolation: false,
        };
      },
    },
    ListModels: {
      handler: (input: ListRequest) => {
        const { items, nextToken } = listPage(platform.models.list(), input, (model) => ({ name: model.name, createdAtMs: model.createdAtMs }));
        return defined({
          Models: items.map((model) => ({ ModelName: model.name, ModelArn: sageMakerArn('model', model.name), CreationTime: epochSeconds(model.createdAtMs) })),
          NextToken: nextToken,
        });
      },
    },
    DeleteModel: {
      handler: (input: { ModelName: string }) => {
        platform.models.delete(input.ModelName);
        return {};
      },
    },
  };
}
