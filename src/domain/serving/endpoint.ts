import type { Tag } from '../tags.ts';
import type { BackboneRef } from '../training/training-job.ts';

/** The files a model serves from, as content-addressed artifact digests. */
export interface ModelArtifacts {
  /** Head ONNX model: features → class probabilities. */
  headModel: string;
  /** Labels JSON: class names in index order. */
  labels: string;
  /** The model.tar.gz the model was created from; absent on models of Kennel 0.1, which had none. */
  modelArchive?: string;
}

/** A deployable model: a trained head on a backbone, with its labels, unpacked from model.tar.gz. */
export interface Model {
  name: string;
  executionRoleArn: string;
  image: string;
  /** `s3://…/model.tar.gz` or `file:///…`, as given to CreateModel; absent on models of Kennel 0.1. */
  modelDataUrl?: string;
  environment: Record<string, string>;
  backbone: BackboneRef;
  artifacts: ModelArtifacts;
  classCount: number;
  /** The Kennel training job that wrote the archive, when it was one. */
  trainingJobName?: string;
  tags: Tag[];
  createdAtMs: number;
}

export interface ProductionVariant {
  variantName: string;
  modelName: string;
  initialInstanceCount: number;
  instanceType: string;
  initialVariantWeight: number;
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
 */
export type EndpointStatus = 'Creating' | 'InService' | 'SystemUpdating' | 'Updating' | 'Failed' | 'Deleting';

/**
 * What an endpoint serves, resolved when it is created: as on SageMaker, deleting
 * the model or endpoint config afterwards does not take a running endpoint down,
 * nor stop it from coming back after a restart.
 */
export interface DeployedVariant {
  variantName: string;
  modelName: string;
  image: string;
  instanceType: string;
  instanceCount: number;
  weight: number;
  backbone: BackboneRef;
  artifacts: ModelArtifacts;
}

export interface Endpoint {
  name: string;
  endpointConfigName: string;
  productionVariants: DeployedVariant[];
  status: EndpointStatus;
  failureReason?: string;
  tags: Tag[];
  createdAtMs: number;
  lastModifiedAtMs: number;
}
