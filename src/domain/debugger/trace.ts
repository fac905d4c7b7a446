/**
 * What a training job records while it runs, for the debugger's rules and the report: the
 * same facts SageMaker Debugger's hook saves (losses, weights, gradients, ReLU activity,
 * the learning rate) and its profiler samples (CPU, memory, step time), reduced to the
 * statistics the rules read, so that a trace stays small enough to keep whole.
 */

/** One parameter tensor at a recorded step: the figures the tensor rules read. */
export interface TensorStatistics {
  /** The tensor's name, as the model names it (`fc1.weight`, `w1`, ...). */
  name: string;
  /** L2 norm of the values. */
  norm: number;
  /** Variance of the values. */
  variance: number;
  /** L2 norm of the gradient. */
  gradientNorm: number;
  /** Mean of |gradient|: what VanishingGradient compares with its threshold. */
  gradientMeanAbs: number;
  /** The gradient's 95th less its 5th percentile: a gradient with no spread cannot tell the weights apart. */
  gradientSpread: number;
  /** Entries of the values or the gradient that are NaN. */
  nanCount: number;
  /** Entries of the values or the gradient that are ±Infinity. */
  infiniteCount: number;
  /** A histogram of the values, for the report; absent when not recorded at this step. */
  histogram?: Histogram;
}

export interface Histogram {
  min: number;
  max: number;
  /** Counts in equal-width bins from min to max. */
  counts: number[];
}

/** A ReLU layer at a recorded step: how often each unit was active over the step's batch. */
export interface ReluActivity {
  layer: string;
  /** Per unit, the percentage (0–100) of the batch's samples for which it was above zero. */
  activePercent: number[];
}

/** One optimiser step. */
export interface TraceStep {
  step: number;
  epoch: number;
  loss: number;
  learningRate: number;
  /** Time spent waiting for the batch (data loading) and computing on it, in ms. */
  dataMs: number;
  computeMs: number;
  /** Recorded every `save_interval` steps (and at the first); empty in between. */
  tensors: TensorStatistics[];
  relus: ReluActivity[];
}

/** One pass over the data, with the validation figures where there is a validation set. */
export interface TraceEpoch {
  epoch: number;
  /** The last step of the epoch. */
  step: number;
  trainLoss: number;
  validationLoss?: number;
  trainAccuracy?: number;
  validationAccuracy?: number;
}

/** The machine, sampled while the job runs. */
export interface SystemSample {
  atMs: number;
  /** The step running when the sample was taken. */
  step: number;
  /** The job's processes (a script's process group; for the built-in algorithm, Kennel's own process), as a percentage of every core together (0–100). */
  cpuPercent: number;
  rssMb: number;
  /** The longest event-loop or garbage-collection pause since the previous sample, in ms. */
  pauseMs: number;
}

/** What the training set holds and what the model predicts, for ClassImbalance. */
export interface ClassCounts {
  labels: string[];
  /** Samples per class in the training set. */
  samples: number[];
  /** Per class, the fraction (0–1) of its validation samples predicted as something else, at the latest evaluation. */
  mispredicted?: number[];
}

export interface TrainingTrace {
  steps: TraceStep[];
  epochs: TraceEpoch[];
  system: SystemSample[];
  classes?: ClassCounts;
}
