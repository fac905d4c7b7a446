/** The members of SageMaker's answers that the CLI reads. */

export interface TrainingJobDescription {
  TrainingJobName: string;
  TrainingJobStatus: string;
  SecondaryStatus: string;
  FailureReason?: string;
  HyperParameters?: Record<string, string>;
  AlgorithmSpecification: { TrainingImage?: string };
  InputDataConfig?: { ChannelName: string; DataSource: { S3DataSource?: { S3Uri: string } } }[];
  ResourceConfig: { InstanceType?: string };
  ModelArtifacts: { S3ModelArtifacts: string };
  SecondaryStatusTransitions?: { Status: string; StatusMessage?: string }[];
  FinalMetricDataList?: { MetricName: string; Value: number }[];
  CreationTime: number;
  TrainingTimeInSeconds?: number;
}

export interface TrainingJobSummary {
  TrainingJobName: string;
  TrainingJobStatus: string;
  CreationTime: number;
  TrainingEndTime?: number;
}

export interface TrainingJobMetrics {
  epochs: { epoch: number; trainLoss: number; trainAccuracy: number; validationLoss: number; validationAccuracy: number; seconds: number }[];
  /** The image classifier's epochs to run; absent for script mode. */
  plannedEpochs?: number;
  /** Values each MetricDefinition scraped from the log. */
  series?: Record<string, { value: number; atMs: number }[]>;
  embeddingStats?: { computed: number; cached: number };
  finalMetrics?: { testLoss: number; testAccuracy: number };
}

export interface ModelDescription {
  ModelName: string;
  PrimaryContainer?: { Image?: string; ModelDataUrl?: string; Environment?: Record<string, string> };
  ExecutionRoleArn: string;
  CreationTime: number;
}

export interface EndpointConfigDescription {
  EndpointConfigName: string;
  ProductionVariants: { VariantName: string; ModelName: string; InstanceType?: string; InitialInstanceCount?: number }[];
  CreationTime: number;
}

export interface EndpointDescription {
  EndpointName: string;
  EndpointConfigName: string;
  EndpointStatus: string;
  FailureReason?: string;
  LastModifiedTime: number;
}

export interface NamedSummary {
  CreationTime: number;
  [member: string]: unknown;
}
