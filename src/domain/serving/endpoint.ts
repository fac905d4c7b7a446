import type { BackboneRef, TrainingJobArtifacts } from '../training/training-job.ts';

/** A deployable model: a trained head on a backbone, with its labels. */
export interface Model {
  name: string;
  trainingJobName: string;
  backbone: BackboneRef;
  artifacts: TrainingJobArtifacts;
  classCount: number;
  createdAtMs: number;
}

export interface ProductionVariant {
  variantName: string;
  modelName: string;
  initialInstanceCount: number;
  instanceType: string;
}

export interface EndpointConfig {
  name: string;
  productionVariants: ProductionVariant[];
  createdAtMs: number;
}

export type EndpointStatus = 'Creating' | 'InService' | 'Updating' | 'Failed' | 'Deleting';

/**
 * What an endpoint serves, resolved when it is created: as on SageMaker, deleting
 * the model or endpoint config afterwards does not take a running endpoint down,
 * nor stop it from coming back after a restart.
 */
export interface DeployedVariant {
  variantName: string;
  modelName: string;
  backbone: BackboneRef;
  artifacts: TrainingJobArtifacts;
}

export interface Endpoint {
  name: string;
  endpointConfigName: string;
  productionVariants: DeployedVariant[];
  status: EndpointStatus;
  failureReason?: string;
  createdAtMs: number;
  lastModifiedAtMs: number;
}
