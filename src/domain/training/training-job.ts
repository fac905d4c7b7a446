import type { DebuggerSpec } from '../debugger/configuration.ts';
import type { RuleEvaluation } from '../debugger/evaluation.ts';
import type { Tag } from '../tags.ts';
import type { Framework, Interpreter } from './script-mode.ts';

/** Training job records, in SageMaker's words. */

export type TrainingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

/** SageMaker's SecondaryStatus values that Kennel's jobs go through. */
export type SecondaryStatus =
  | 'Starting'
  | 'Downloading'
  | 'Training'
  | 'Uploading'
  | 'Restarting'
  | 'Stopping'
  | 'Stopped'
  | 'MaxRuntimeExceeded'
  | 'Completed'
  | 'Failed';

export interface SecondaryStatusTransition {
  status: SecondaryStatus;
  startMs: number;
  endMs?: number;
  message: string;
}

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
  /** Digest of model.tar.gz, the archive written to the output path; absent on jobs of Kennel 0.1, which wrote none. */
  modelArchive?: string;
}

/** How many images went through the backbone for a job, and how many came from the embedding cache. */
export interface EmbeddingStats {
  computed: number;
  cached: number;
}

/** One input channel, as CreateTrainingJob names it. */
export interface TrainingChannel {
  channelName: string;
  /** `s3://bucket/prefix` or `file:///abs/path`. */
  uri: string;
  s3DataType: string;
  contentType?: string;
  inputMode?: string;
}

/** What every training job asks for, whatever runs it: recorded when it is created. */
export interface BaseTrainingSpec {
  trainingImage: string;
  trainingInputMode: string;
  roleArn: string;
  /** As sent: a map of strings. */
  hyperParameters: Record<string, string>;
  channels: TrainingChannel[];
  /** Where model.tar.gz goes: `<outputPath>/<job>/output/model.tar.gz`. */
  outputPath: string;
  /** CheckpointConfig.S3Uri: the final checkpoint is kept there, and a job finding one there goes on from it. */
  checkpointUri?: string;
  instanceType: string;
  instanceCount: number;
  volumeSizeInGB: number;
  maxRuntimeSeconds: number;
  /** AlgorithmSpecification.MetricDefinitions, as given: scraped from the job's log. */
  metricDefinitions: { name: string; regex: string }[];
  /** The debugger's and profiler's settings and rules; absent when the request had none. */
  debugger?: DebuggerSpec;
  /** Set on the trials of a tuning job: the tuning job that launched it... */
  tuningJobName?: string;
  /** ...and the metric it optimises: a trial that never reports it fails, saying so. */
  objectiveMetric?: string;
}

/** The built-in image classifier: a frozen backbone and a new head. */
export interface ImageClassifierSpec extends BaseTrainingSpec {
  algorithm: 'image-classifier';
  /** Set on the trials of a tuning job: its images, embedded once for every trial. */
  preparedDataDigest?: string;
  /** The backbone and head settings read from the hyperparameters and the backbone channel. */
  backbone: BackboneRef;
  head: HeadHyperParameters;
}

/** Script mode: the user's entry point, run under the SageMaker training contract. */
export interface ScriptSpec extends BaseTrainingSpec {
  algorithm: 'script';
  script: {
    framework: Framework;
    interpreter: Interpreter;
    /** sagemaker_program, relative to the source folder. */
    program: string;
    /** sagemaker_submit_directory: a folder or a sourcedir.tar.gz. */
    submitDirectory: string;
  };
  /** CreateTrainingJob's Environment: variables for the script, under the contract's own. */
  environment: Record<string, string>;
}

export type TrainingJobSpec = ImageClassifierSpec | ScriptSpec;

/** One value a metric definition scraped from the log. */
export interface MetricPoint {
  value: number;
  atMs: number;
}

/** A request to end the job early: desired state, kept apart from the observed status. */
export interface StopRequest {
  reason: 'StopRequested' | 'MaxRuntimeExceeded';
  atMs: number;
  /** Who asked, when it was not StopTrainingJob: a debugger rule's StopTraining action. */
  by?: string;
}

export interface TrainingJob {
  name: string;
  spec: TrainingJobSpec;
  stopRequest?: StopRequest;
  tags: Tag[];

  status: TrainingJobStatus;
  secondaryStatus: SecondaryStatus;
  secondaryStatusTransitions: SecondaryStatusTransition[];
  failureReason?: string;
  /** Class folders in label order, read from the data when the job ran. */
  classes?: string[];
  epochs: EpochMetrics[];
  embeddingStats?: EmbeddingStats;
  finalMetrics?: FinalMetrics;
  /** Values of AlgorithmSpecification.MetricDefinitions scraped from the log, by metric name, oldest first. */
  scrapedMetrics?: Record<string, MetricPoint[]>;
  artifacts?: TrainingJobArtifacts;
  /** `s3://…/<job>/output/model.tar.gz` or `file:///…`, once it is written. */
  modelArtifactsUri?: string;
  /** Where each of the spec's debugger and profiler rules stands, in the spec's order (debugger rules first). */
  ruleEvaluations?: RuleEvaluation[];

  createdAtMs: number;
  lastModifiedAtMs: number;
  /** When the current run began (a restart after a crash begins a new one). */
  startedAtMs?: number;
  /** How long earlier runs ran before a restart cut them short: part of the job's runtime. */
  priorRunMs?: number;
  endedAtMs?: number;
}

/** A job of the built-in image classifier. */
export type ImageClassifierJob = TrainingJob & { spec: ImageClassifierSpec };

export function isImageClassifierJob(job: TrainingJob): job is ImageClassifierJob {
  return job.spec.algorithm === 'image-classifier';
}

export const TERMINAL_TRAINING_STATUSES: readonly TrainingJobStatus[] = ['Completed', 'Failed', 'Stopped'];

export function isTerminal(status: TrainingJobStatus): boolean {
  return TERMINAL_TRAINING_STATUSES.includes(status);
}

/** The transitions with `status` begun at `nowMs`, the previous one ended then; a terminal status begins and ends at once. */
export function withTransition(
  transitions: readonly SecondaryStatusTransition[],
  status: SecondaryStatus,
  message: string,
  nowMs: number,
): SecondaryStatusTransition[] {
  const ended = transitions.map((transition) => (transition.endMs === undefined ? { ...transition, endMs: nowMs } : transition));
  const terminal = status === 'Completed' || status === 'Failed' || status === 'Stopped' || status === 'MaxRuntimeExceeded';
  return [...ended, { status, startMs: nowMs, ...(terminal ? { endMs: nowMs } : {}), message }];
}
