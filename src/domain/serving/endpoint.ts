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

export interface Endpoint {
  name: string;
  endpointConfigName: string;
  status: EndpointStatus;
  failureReason?: string;
  createdAtMs: number;
  lastModifiedAtMs: number;
}
