import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_BUCKET } from '../domain/data/object-uri.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';

/** The members of a CreateTrainingJob request that a tuning job's TrainingJobDefinition takes too. */
export interface TrainingJobRequest {
  HyperParameters?: Record<string, string>;
  AlgorithmSpecification: object;
  RoleArn: string;
  InputDataConfig: object[];
  OutputDataConfig: object;
  ResourceConfig: object;
  StoppingCondition: object;
}

export interface TrainingRequest {
  name: string;
  /** The images: `file://` or `s3://`, holding train/, valid/ and test/. */
  dataUri: string;
  /** An ONNX backbone; the sample backbone when absent. */
  backboneUri?: string;
  hyperParameters: Record<string, string>;
  instanceType?: string;
  maxRuntimeSeconds?: number;
  outputPath?: string;
  roleArn?: string;
}

/** The CreateTrainingJob request for Kennel's image classifier, as `training-jobs create` and `apply` send it. */
export function createTrainingJobRequest(request: TrainingRequest): TrainingJobRequest & { TrainingJobName: string } {
  const channel = (name: string, uri: string) => ({ ChannelName: name, DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri } } });
  return {
    TrainingJobName: request.name,
    AlgorithmSpecification: { TrainingImage: IMAGE_CLASSIFIER_IMAGE, TrainingInputMode: 'File' },
    RoleArn: request.roleArn ?? KENNEL_EXECUTION_ROLE_ARN,
    HyperParameters: request.hyperParameters,
    InputDataConfig: [channel('training', request.dataUri), ...(request.backboneUri ? [channel('backbone', request.backboneUri)] : [])],
    OutputDataConfig: { S3OutputPath: request.outputPath ?? `s3://${DEFAULT_BUCKET}/` },
    ResourceConfig: { InstanceType: request.instanceType ?? 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 30 },
    StoppingCondition: request.maxRuntimeSeconds === undefined ? {} : { MaxRuntimeInSeconds: request.maxRuntimeSeconds },
  };
}

/** A URI as is; a local path as a file:// URI. */
export function toUri(pathOrUri: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(pathOrUri) ? pathOrUri : pathToFileURL(resolve(pathOrUri)).href;
}
