import type { Tag } from '../tags.ts';
import type { BatchingPolicy } from './batching.ts';
import type { Serving } from './model-serving.ts';

export type { ModelArtifacts } from './model-serving.ts';

interface ModelRecord {
  name: string;
  executionRoleArn: string;
  image: string;
  /** `s3://…/model.tar.gz` or `file:///…`, as given to CreateModel; absent on models of Kennel 0.1. */
  modelDataUrl?: string;
  environment: Record<string, string>;
  /** Classes the model answers with; unknown (absent) for an inference script, whose answers are its own. */
  classCount?: number;
  /** The Kennel training job that wrote the archive, when it was one. */
  trainingJobName?: string;
  tags: Tag[];
  createdAtMs: number;
}

/**
 * A deployable model, read from its model.tar.gz at CreateModel: an ONNX classifier
 * (a backbone, maybe a head, and labels) or an inference script with its model folder.
 */
export type Model = ModelRecord & Serving;

export interface ProductionVariant {
  variantName: string;
  modelName: string;
  initialInstanceCount: number;
  instanceType: string;
  initialVariantWeight: number;
  /** Kennel's extension: dynamic batching on each of the variant's instances; absent, requests go one at a time. */
  batching?: BatchingPolicy;
}

export interface EndpointConfig {
  name: string;
  productionVariants: ProductionVariant[];
  tags: Tag[];
  createdAtMs: number;
}

/**
 * SageMaker's endpoint statuses. SystemUpdating is an endpoint that was in
 * service when Kennel stopped, while a restarted Kennel loads its model again.
 * Updating is an update being applied (a new config, weights or capacities)
 * while the old deployment serves; RollingBack, one that failed being undone.
 */
export type EndpointStatus = 'Creating' | 'InService' | 'SystemUpdating' | 'Updating' | 'RollingBack' | 'Failed' | 'Deleting';

/**
 * What an endpoint serves, resolved when it is created: as on SageMaker, deleting
 * the model or endpoint config afterwards does not take a running endpoint down,
 * nor stop it from coming back after a restart.
 */
export type DeployedVariant = VariantDeployment & Serving;

interface VariantDeployment {
  variantName: string;
  modelName: string;
  image: string;
  instanceType: string;
  /** DesiredInstanceCount: what the variant is asked to run. */
  instanceCount: number;
  /** DesiredWeight: the variant's share of the traffic is its weight over the sum of all weights. */
  weight: number;
  /** CurrentWeight, while an update to `weight` is being applied; absent, it is `weight`. */
  currentWeight?: number;
  batching?: BatchingPolicy;
}

/** An UpdateEndpoint being applied: the new config's variants, started beside the old ones (blue/green). */
export interface PendingDeployment {
  endpointConfigName: string;
  productionVariants: DeployedVariant[];
  startedAtMs: number;
}

export interface Endpoint {
  name: string;
  endpointConfigName: string;
  /** The deployment that serves. */
  productionVariants: DeployedVariant[];
  /** The deployment UpdateEndpoint asked for, until it serves or is rolled back. */
  pendingDeployment?: PendingDeployment;
  status: EndpointStatus;
  /** Why the endpoint failed, or why its last update was rolled back (the endpoint then serves on, InService). */
  failureReason?: string;
  tags: Tag[];
  createdAtMs: number;
  lastModifiedAtMs: number;
}
