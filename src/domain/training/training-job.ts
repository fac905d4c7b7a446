/** Training job records, in SageMaker's words. */
export type TrainingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

/** Secondary status: what the job is doing right now. */
export type TrainingJobPhase = 'Starting' | 'Embedding' | 'Training' | 'Evaluating' | 'Uploading' | 'Completed' | 'Failed' | 'Stopped';

export interface HeadHyperParameters {
  learning_rate: number;
  batch_size: number;
  epochs: number;
  hidden_units: number;
  seed: number;
}

/** Preprocessing that turns an image into the backbone's input tensor. */
export interface Preprocessing {
  /** The shorter side is resized to this many pixels (torchvision Resize)... */
  resizeSize: number;
  /** ...then the centre cropSize × cropSize square is taken (torchvision CenterCrop). */
  cropSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Channel layout of the input tensor. */
  layout: 'NCHW' | 'NHWC';
}

export interface BackboneRef {
  /** SHA-256 of the ONNX file: identifies the backbone in caches and models. */
  digest: string;
  inputName: string;
  outputName: string;
  featureSize: number;
  preprocessing: Preprocessing;
}

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  validationLoss: number;
  validationAccuracy: number;
  seconds: number;
}

export interface FinalMetrics {
  testLoss: number;
  testAccuracy: number;
}

export interface TrainingJobArtifacts {
  /** Digest of the head ONNX model (features → class probabilities). */
  headModel: string;
  /** Digest of labels JSON (class names in index order). */
  labels: string;
  /** Digest of metrics JSON (per-epoch and final). */
  metrics: string;
}

/** How many images went through the backbone for a job, and how many came from the embedding cache. */
export interface EmbeddingStats {
  computed: number;
  cached: number;
}

export interface TrainingJob {
  name: string;
  algorithm: 'image-classifier';
  datasetName: string;
  backbone: BackboneRef;
  hyperParameters: HeadHyperParameters;
  status: TrainingJobStatus;
  phase: TrainingJobPhase;
  failureReason?: string;
  epochs: EpochMetrics[];
  embeddingStats?: EmbeddingStats;
  finalMetrics?: FinalMetrics;
  artifacts?: TrainingJobArtifacts;
  createdAtMs: number;
  startedAtMs?: number;
  endedAtMs?: number;
}

export const TERMINAL_TRAINING_STATUSES: readonly TrainingJobStatus[] = ['Completed', 'Failed', 'Stopped'];

export function isTerminal(status: TrainingJobStatus): boolean {
  return TERMINAL_TRAINING_STATUSES.includes(status);
}
