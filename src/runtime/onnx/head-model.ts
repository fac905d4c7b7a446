import {
  assertHeadShape,
  assertHeadWeights,
  HEAD_PARAMETER_NAMES,
  headParameterDims,
  type HeadParameterName,
  type HeadShape,
  type HeadWeights,
} from '../../domain/training/head-weights.ts';
import { GraphBuilder } from './graph-builder.ts';

/**
 * ONNX graphs of the classifier head Linear(F,H) → ReLU → Linear(H,C): the deployable inference
 * model, and the evaluation and training-step graphs the trainer runs. Matrices use the
 * HeadWeights layout (out × in), hence transB=1 on every forward Gemm.
 */

export const HEAD_INPUT_NAME = 'features';
export const HEAD_OUTPUT_NAME = 'probabilities';

type ParameterValues = Record<HeadParameterName, string>;

/** features [N,F] → class probabilities [N,C], with the weights stored in the model. */
export function buildHeadInferenceModel(weights: HeadWeights): Uint8Array {
  assertHeadWeights(weights);
  const g = new GraphBuilder('kennel_head');
  const features = g.input(HEAD_INPUT_NAME, 'float', ['batch', weights.featureSize]);
  const dims = headParameterDims(weights);
  const parameters = Object.fromEntries(
    HEAD_PARAMETER_NAMES.map((name) => [name, g.initializer(name, weights[name], dims[name])]),
  ) as ParameterValues;
  const { logits } = addForward(g, features, parameters);
  g.op('Softmax', [logits], { axis: 1 }, HEAD_OUTPUT_NAME);
  g.output(HEAD_OUTPUT_NAME, 'float', ['batch', weights.classCount]);
  return g.build({ docString: 'Kennel image-classifier head: backbone features in, class probabilities out.' });
}

/** Names of the evaluation graph's values; the weights go in as w1, b1, w2, b2. */
export const EVALUATION = {
  features: 'features',
  labels: 'labels',
  lossSum: 'loss_sum',
  correctCount: 'correct_count',
} as const;

/**
 * features [N,F] + labels [N] + weights → summed cross-entropy [1] and number of correct
 * predictions [1]. Weights are inputs, not initializers, so one session evaluates every epoch.
 */
export function buildHeadEvaluationModel(shape: HeadShape): Uint8Array {
  assertHeadShape(shape);
  const g = new GraphBuilder('kennel_head_evaluation');
  const features = g.input(EVALUATION.features, 'float', ['samples', shape.featureSize]);
  const labels = g.input(EVALUATION.labels, 'int64', ['samples']);
  const parameters = parameterInputs(g, shape);
  const { logits } = addForward(g, features, parameters);
  addLossAndAccuracy(g, logits, labels, EVALUATION);
  g.output(EVALUATION.lossSum, 'float', [1]);
  g.output(EVALUATION.correctCount, 'float', [1]);
  return g.build();
}

/** torch.optim.Adam's defaults, which the training graph uses. */
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** The optimiser state the training graph reads and writes: parameters, then Adam's moments. */
export const TRAINING_STATE_NAMES = [
  ...HEAD_PARAMETER_NAMES,
  ...HEAD_PARAMETER_NAMES.map((name) => `m_${name}` as const),
  ...HEAD_PARAMETER_NAMES.map((name) => `v_${name}` as const),
];
export type TrainingStateName = (typeof TRAINING_STATE_NAMES)[number];

/** The parameter a state tensor belongs to: w1 for w1, m_w1 and v_w1. */
export function parameterOf(name: TrainingStateName): HeadParameterName {
  return name.replace(/^[mv]_/, '') as HeadParameterName;
}

/** Names of the training-step graph's values; state outputs are `next_<state name>`. */
export const TRAINING_STEP = {
  features: 'features',
  labels: 'labels',
  batchIndices: 'batch_indices',
  stepSize: 'step_size',
  epsilonHat: 'epsilon_hat',
  lossSum: 'loss_sum',
  correctCount: 'correct_count',
  next: (name: TrainingStateName) => `next_${name}`,
} as const;

/**
 * The per-step scalars the training graph takes for Adam step t (counting from 1). torch.optim.Adam
 * computes p −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε); multiplying through by √(1−β2^t) gives
 * p −= stepSize · m / (√v + ε̂), the same update up to rounding with one pass over the parameters
 * fewer: the form of the Adam paper (Kingma & Ba, end of §2).
 */
export function adamStepScalars(learningRate: number, t: number): { stepSize: number; epsilonHat: number } {
  const { beta1, beta2, epsilon } = ADAM_DEFAULTS;
  const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** t);
  return {
    stepSize: (learningRate * biasCorrection2Sqrt) / (1 - beta1 ** t),
    epsilonHat: epsilon * biasCorrection2Sqrt,
  };
}

export interface TrainingStepModelOptions extends HeadShape {
  /** Optimiser steps unrolled into one graph run: fewer runs means less fixed per-run cost and state copying. */
  steps: number;
}

/**
 * `steps` Adam steps of softmax cross-entropy training as one graph, backward pass written out.
 *
 * Inputs: the whole training set (`features` [N,F], `labels` [N] int64, passed without copying);
 * `batch_indices` [steps, B] picks each step's rows, B being the real batch size, so the loss is
 * the mean over exactly the samples in the batch (a last partial batch runs with its own B);
 * `step_size` and `epsilon_hat` [steps] from adamStepScalars for each step's t; then the 12 state
 * tensors. Outputs: `next_*` state after the last step, and per-step `loss_sum` [steps] (summed
 * per-sample losses before that step's update) and `correct_count` [steps].
 */
export function buildHeadTrainingStepModel(options: TrainingStepModelOptions): Uint8Array {
  assertHeadShape(options);
  const { featureSize, classCount, steps } = options;
  const g = new GraphBuilder(`kennel_head_training_${steps}_steps`);
  const features = g.input(TRAINING_STEP.features, 'float', ['samples', featureSize]);
  const labels = g.input(TRAINING_STEP.labels, 'int64', ['samples']);
  const batchIndices = g.input(TRAINING_STEP.batchIndices, 'int64', [steps, 'batch']);
  const stepSizes = g.input(TRAINING_STEP.stepSize, 'float', [steps]);
  const epsilonHats = g.input(TRAINING_STEP.epsilonHat, 'float', [steps]);
  const dims = headParameterDims(options);
  const state = {} as Record<TrainingStateName, string>;
  for (const name of TRAINING_STATE_NAMES) state[name] = g.input(name, 'float', dims[parameterOf(name)]);

  const constants = backwardConstants(g, classCount);
  const beta1 = g.scalar(ADAM_DEFAULTS.beta1);
  const oneMinusBeta1 = g.scalar(1 - ADAM_DEFAULTS.beta1);
  const beta2 = g.scalar(ADAM_DEFAULTS.beta2);
  const oneMinusBeta2 = g.scalar(1 - ADAM_DEFAULTS.beta2);

  const lossSums: string[] = [];
  const correctCounts: string[] = [];
  for (let step = 0; step < steps; step++) {
    const stepIndex = g.constant(BigInt64Array.of(BigInt(step)), []);
    const rows = g.op('Gather', [batchIndices, stepIndex], { axis: 0 });
    const x = g.op('Gather', [features, rows], { axis: 0 });
    const y = g.op('Gather', [labels, rows], { axis: 0 });
    const { scores, gradients } = addBackward(g, x, y, state, constants);
    lossSums.push(scores.lossSum);
    correctCounts.push(scores.correctCount);

    const stepSize = g.op('Gather', [stepSizes, stepIndex], { axis: 0 });
    const epsilonHat = g.op('Gather', [epsilonHats, stepIndex], { axis: 0 });
    // The last step writes straight into the graph outputs, saving a copy of the state per run.
    const target = (name: TrainingStateName) => (step === steps - 1 ? TRAINING_STEP.next(name) : undefined);
    for (const name of HEAD_PARAMETER_NAMES) {
      const grad = gradients[name];
      const mTerms = [g.op('Mul', [state[`m_${name}`], beta1]), g.op('Mul', [grad, oneMinusBeta1])];
      const m = g.op('Add', mTerms, {}, target(`m_${name}`));
      const vTerms = [g.op('Mul', [state[`v_${name}`], beta2]), g.op('Mul', [g.op('Mul', [grad, grad]), oneMinusBeta2])];
      const v = g.op('Add', vTerms, {}, target(`v_${name}`));
      const update = g.op('Mul', [g.op('Div', [m, g.op('Add', [g.op('Sqrt', [v]), epsilonHat])]), stepSize]);
      state[name] = g.op('Sub', [state[name], update], {}, target(name));
      state[`m_${name}`] = m;
      state[`v_${name}`] = v;
    }
  }

  for (const name of TRAINING_STATE_NAMES) g.output(TRAINING_STEP.next(name), 'float', dims[parameterOf(name)]);
  g.op('Concat', lossSums, { axis: 0 }, TRAINING_STEP.lossSum);
  g.op('Concat', correctCounts, { axis: 0 }, TRAINING_STEP.correctCount);
  g.output(TRAINING_STEP.lossSum, 'float', [steps]);
  g.output(TRAINING_STEP.correctCount, 'float', [steps]);
  return g.build();
}

interface BackwardConstants {
  oneHotDepth: string;
  oneHotValues: string;
  axis0: string;
}

/** What addBackward needs, made once per graph however many steps it unrolls. */
function backwardConstants(g: GraphBuilder, classCount: number): BackwardConstants {
  return { oneHotDepth: g.constant(BigInt64Array.of(BigInt(classCount)), []), oneHotValues: g.constant(Float32Array.of(0, 1)), axis0: g.constant(BigInt64Array.of(0n)) };
}

/** The weights as graph inputs named w1, b1, w2, b2: fed per run, so one session serves every step. */
function parameterInputs(g: GraphBuilder, shape: HeadShape): ParameterValues {
  const dims = headParameterDims(shape);
  return Object.fromEntries(HEAD_PARAMETER_NAMES.map((name) => [name, g.input(name, 'float', dims[name])])) as ParameterValues;
}

/** The forward pass, the loss, and the gradient of the batch's mean loss for every parameter. */
function addBackward(
  g: GraphBuilder,
  x: string,
  y: string,
  p: ParameterValues,
  constants: BackwardConstants,
): { a1: string; scores: ReturnType<typeof addLossAndAccuracy>; gradients: ParameterValues } {
  const { a1, logits } = addForward(g, x, p);
  const scores = addLossAndAccuracy(g, logits, y);
  // d(mean loss)/d logits = (softmax − one-hot) / B
  const inverseBatchSize = g.op('Reciprocal', [g.op('Cast', [g.op('Shape', [y])], { to: 1 })]);
  const oneHot = g.op('OneHot', [y, constants.oneHotDepth, constants.oneHotValues], { axis: -1 });
  const probabilities = g.op('Exp', [scores.logProbabilities]);
  const dLogits = g.op('Mul', [g.op('Sub', [probabilities, oneHot]), inverseBatchSize]);
  // ReLU passes gradient where its output is positive; Sign(a1) is exactly that 0/1 mask.
  const dHidden = g.op('Mul', [g.op('MatMul', [dLogits, p.w2]), g.op('Sign', [a1])]);
  const gradients: ParameterValues = {
    w1: g.op('Gemm', [dHidden, x], { transA: 1 }),
    b1: g.op('ReduceSum', [dHidden, constants.axis0], { keepdims: 0 }),
    w2: g.op('Gemm', [dLogits, a1], { transA: 1 }),
    b2: g.op('ReduceSum', [dLogits, constants.axis0], { keepdims: 0 }),
  };
  return { a1, scores, gradients };
}

/** Names of the probe graph's values; the weights go in as w1, b1, w2, b2. */
export const PROBE = {
  features: 'features',
  labels: 'labels',
  lossSum: 'loss_sum',
  gradient: (name: HeadParameterName) => `grad_${name}`,
  /** Per parameter, [Σv², Σv, Σg², Σ|g|, NaN count, ±Inf count] over its values v and gradient g (see TensorSums). */
  sums: (name: HeadParameterName) => `sums_${name}`,
  /** Per hidden unit, how many of the batch's samples it was active (above zero) for. */
  activeCount: 'active_count',
} as const;

/**
 * What the debugger records at a step, without changing anything: for one batch (features
 * [B,F], labels [B]) and the current weights, the summed loss, the gradient of the batch's
 * mean loss for each parameter (the training step's, written out once), and each hidden ReLU
 * unit's count of active samples.
 */
export function buildHeadProbeModel(shape: HeadShape): Uint8Array {
  assertHeadShape(shape);
  const g = new GraphBuilder('kennel_head_probe');
  const x = g.input(PROBE.features, 'float', ['batch', shape.featureSize]);
  const y = g.input(PROBE.labels, 'int64', ['batch']);
  const dims = headParameterDims(shape);
  const parameters = parameterInputs(g, shape);
  const constants = backwardConstants(g, shape.classCount);
  const { a1, scores, gradients } = addBackward(g, x, y, parameters, constants);
  g.op('Identity', [scores.lossSum], {}, PROBE.lossSum);
  g.output(PROBE.lossSum, 'float', [1]);
  const flat = g.constant(BigInt64Array.of(-1n));
  // Sums over every entry, in the graph rather than in JavaScript: a saved step of the reference head reads 2 × 262k values.
  const count = (test: 'IsNaN' | 'IsInf', value: string) => g.op('ReduceSum', [g.op('Cast', [g.op(test, [value])], { to: 1 })], { keepdims: 1 });
  for (const name of HEAD_PARAMETER_NAMES) {
    g.op('Identity', [gradients[name]], {}, PROBE.gradient(name));
    g.output(PROBE.gradient(name), 'float', dims[name]);
    const values = g.op('Reshape', [parameters[name], flat]);
    const gradient = g.op('Reshape', [gradients[name], flat]);
    const sums = [
      g.op('ReduceSumSquare', [values], { keepdims: 1 }),
      g.op('ReduceSum', [values], { keepdims: 1 }),
      g.op('ReduceSumSquare', [gradient], { keepdims: 1 }),
      g.op('ReduceL1', [gradient], { keepdims: 1 }),
      g.op('Add', [count('IsNaN', values), count('IsNaN', gradient)]),
      g.op('Add', [count('IsInf', values), count('IsInf', gradient)]),
    ];
    g.op('Concat', sums, { axis: 0 }, PROBE.sums(name));
    g.output(PROBE.sums(name), 'float', [sums.length]);
  }
  g.op('ReduceSum', [g.op('Sign', [a1]), constants.axis0], { keepdims: 0 }, PROBE.activeCount);
  g.output(PROBE.activeCount, 'float', [shape.hiddenUnits]);
  return g.build();
}

function addForward(g: GraphBuilder, x: string, p: ParameterValues): { a1: string; logits: string } {
  const a1 = g.op('Relu', [g.op('Gemm', [x, p.w1, p.b1], { transB: 1 })]);
  const logits = g.op('Gemm', [a1, p.w2, p.b2], { transB: 1 });
  return { a1, logits };
}

/** Summed cross-entropy [1] and correct-prediction count [1] (as float) of a batch of logits. */
function addLossAndAccuracy(
  g: GraphBuilder,
  logits: string,
  labels: string,
  outputNames: { lossSum?: string; correctCount?: string } = {},
): { logProbabilities: string; lossSum: string; correctCount: string } {
  const axis0 = g.constant(BigInt64Array.of(0n));
  const axis1 = g.constant(BigInt64Array.of(1n));
  const logProbabilities = g.op('LogSoftmax', [logits], { axis: 1 });
  const labelColumn = g.op('Unsqueeze', [labels, axis1]);
  const pickedLogProbabilities = g.op('GatherElements', [logProbabilities, labelColumn], { axis: 1 });
  // [B,1] summed over the batch axis leaves shape [1]
  const pickedSum = g.op('ReduceSum', [pickedLogProbabilities, axis0], { keepdims: 0 });
  const lossSum = g.op('Neg', [pickedSum], {}, outputNames.lossSum);
  const predictions = g.op('ArgMax', [logits], { axis: 1, keepdims: 0 });
  const correct = g.op('Cast', [g.op('Equal', [predictions, labels])], { to: 1 });
  const correctCount = g.op('ReduceSum', [correct, axis0], { keepdims: 1 }, outputNames.correctCount);
  return { logProbabilities, lossSum, correctCount };
}
