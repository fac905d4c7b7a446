import { assertHeadShape, assertHeadWeights, HEAD_PARAMETER_NAMES, type HeadShape, type HeadWeights } from '../../domain/training/head-weights.ts';
import { GraphBuilder } from './graph-builder.ts';

/**
 * ONNX graphs of the classifier head Linear(F,H) → ReLU → Linear(H,C): the deployable inference
 * model, and the evaluation and training-step graphs the trainer runs. Matrices use the
 * HeadWeights layout (out × in), hence transB=1 on every forward Gemm.
 */

export const HEAD_INPUT_NAME = 'features';
export const HEAD_OUTPUT_NAME = 'probabilities';

/** features [N,F] → class probabilities [N,C], with the weights stored in the model. */
export function buildHeadInferenceModel(weights: HeadWeights): Uint8Array {
  assertHeadWeights(weights);
  const g = new GraphBuilder('kennel_head');
  const features = g.input(HEAD_INPUT_NAME, 'float', ['batch', weights.featureSize]);
  const parameters = {
    w1: g.initializer('w1', weights.w1, [weights.hiddenUnits, weights.featureSize]),
    b1: g.initializer('b1', weights.b1, [weights.hiddenUnits]),
    w2: g.initializer('w2', weights.w2, [weights.classCount, weights.hiddenUnits]),
    b2: g.initializer('b2', weights.b2, [weights.classCount]),
  };
  const { logits } = addForward(g, features, parameters);
  g.node('Softmax', [logits], [HEAD_OUTPUT_NAME], { axis: 1 });
  g.output(HEAD_OUTPUT_NAME, 'float', ['batch', weights.classCount]);
  return g.build({ docString: 'Kennel image-classifier head: backbone features in, class probabilities out.' });
}

/** Names of the evaluation graph's values. */
export const EVALUATION = {
  features: 'features',
  labels: 'labels',
  lossSum: 'loss_sum',
  correctCount: 'correct_count',
} as const;

/**
 * features [N,F] + labels [N] + weights as inputs → summed cross-entropy [1] and number of correct
 * predictions [1]. Weights are inputs, not initializers, so one session evaluates every epoch.
 */
export function buildHeadEvaluationModel(shape: HeadShape): Uint8Array {
  assertHeadShape(shape);
  const g = new GraphBuilder('kennel_head_evaluation');
  const features = g.input(EVALUATION.features, 'float', ['samples', shape.featureSize]);
  const labels = g.input(EVALUATION.labels, 'int64', ['samples']);
  const parameters = addParameterInputs(g, shape, '');
  const { logits } = addForward(g, features, parameters);
  const scores = addLossAndAccuracy(g, logits, labels);
  g.node('Identity', [scores.lossSum], [EVALUATION.lossSum]);
  g.node('Identity', [scores.correctCount], [EVALUATION.correctCount]);
  g.output(EVALUATION.lossSum, 'float', [1]);
  g.output(EVALUATION.correctCount, 'float', [1]);
  return g.build();
}

export interface AdamConstants {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** PyTorch's torch.optim.Adam defaults. */
export const ADAM_DEFAULTS: AdamConstants = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** The optimiser state the training graph reads and writes: parameters, then Adam's moments. */
export const TRAINING_STATE_NAMES = [
  ...HEAD_PARAMETER_NAMES,
  ...HEAD_PARAMETER_NAMES.map((name) => `m_${name}` as const),
  ...HEAD_PARAMETER_NAMES.map((name) => `v_${name}` as const),
];
export type TrainingStateName = (typeof TRAINING_STATE_NAMES)[number];

/** Names of the training-step graph's values; state outputs are `next_<state name>`. */
export const TRAINING_STEP = {
  features: 'features',
  labels: 'labels',
  batchIndices: 'batch_indices',
  stepSize: 'step_size',
  biasCorrection2Sqrt: 'bias_correction2_sqrt',
  lossSum: 'loss_sum',
  correctCount: 'correct_count',
  next: (name: TrainingStateName) => `next_${name}`,
} as const;

export interface TrainingStepModelOptions extends HeadShape {
  /** Optimiser steps unrolled into one graph run: fewer runs means less fixed per-run cost and state copying. */
  steps: number;
  adam?: AdamConstants;
}

/**
 * `steps` Adam steps of softmax cross-entropy training as one graph, backward pass written out.
 *
 * Inputs: the whole training set (`features` [N,F], `labels` [N] int64, passed without copying);
 * `batch_indices` [steps, B] picks each step's rows, B being the real batch size, so the loss is
 * the mean over exactly the samples in the batch (a last partial batch runs with its own B);
 * `step_size` [steps] = lr / (1 − β1^t) and `bias_correction2_sqrt` [steps] = √(1 − β2^t) are
 * PyTorch's bias corrections for each step's t, computed by the caller; then the 12 state tensors.
 * Outputs: `next_*` state after the last step, and per-step `loss_sum` [steps] (summed
 * per-sample losses before that step's update) and `correct_count` [steps].
 */
export function buildHeadTrainingStepModel(options: TrainingStepModelOptions): Uint8Array {
  assertHeadShape(options);
  const { featureSize: F, hiddenUnits: H, classCount: C, steps } = options;
  const adam = options.adam ?? ADAM_DEFAULTS;
  const g = new GraphBuilder(`kennel_head_training_${steps}_steps`);

  const features = g.input(TRAINING_STEP.features, 'float', ['samples', F]);
  const labels = g.input(TRAINING_STEP.labels, 'int64', ['samples']);
  const batchIndices = g.input(TRAINING_STEP.batchIndices, 'int64', [steps, 'batch']);
  const stepSizes = g.input(TRAINING_STEP.stepSize, 'float', [steps]);
  const biasCorrections = g.input(TRAINING_STEP.biasCorrection2Sqrt, 'float', [steps]);
  const dims: Record<(typeof HEAD_PARAMETER_NAMES)[number], number[]> = { w1: [H, F], b1: [H], w2: [C, H], b2: [C] };
  const state = {} as Record<TrainingStateName, string>;
  for (const name of TRAINING_STATE_NAMES) {
    const parameter = name.replace(/^[mv]_/, '') as keyof typeof dims;
    state[name] = g.input(name, 'float', dims[parameter]);
  }

  const axis0 = g.constant(BigInt64Array.of(0n));
  const oneHotDepth = g.constant(BigInt64Array.of(BigInt(C)), []);
  const oneHotValues = g.constant(Float32Array.of(0, 1));
  const beta1 = g.scalar(adam.beta1);
  const oneMinusBeta1 = g.scalar(1 - adam.beta1);
  const beta2 = g.scalar(adam.beta2);
  const oneMinusBeta2 = g.scalar(1 - adam.beta2);
  const epsilon = g.scalar(adam.epsilon);

  const lossSums: string[] = [];
  const correctCounts: string[] = [];
  for (let step = 0; step < steps; step++) {
    const stepIndex = g.constant(BigInt64Array.of(BigInt(step)), []);
    const rows = g.op('Gather', [batchIndices, stepIndex], { axis: 0 });
    const x = g.op('Gather', [features, rows], { axis: 0 });
    const y = g.op('Gather', [labels, rows], { axis: 0 });
    const { a1, logits } = addForward(g, x, state);
    const scores = addLossAndAccuracy(g, logits, y);
    lossSums.push(scores.lossSum);
    correctCounts.push(scores.correctCount);

    // d(mean loss)/d logits = (softmax − one-hot) / B
    const inverseBatchSize = g.op('Reciprocal', [g.op('Cast', [g.op('Shape', [y])], { to: 1 })]);
    const oneHot = g.op('OneHot', [y, oneHotDepth, oneHotValues], { axis: -1 });
    const probabilities = g.op('Exp', [scores.logProbabilities]);
    const dLogits = g.op('Mul', [g.op('Sub', [probabilities, oneHot]), inverseBatchSize]);
    const gradients = {
      w2: g.op('Gemm', [dLogits, a1], { transA: 1 }),
      b2: g.op('ReduceSum', [dLogits, axis0], { keepdims: 0 }),
    };
    // ReLU passes gradient where its output is positive; Sign(a1) is exactly that 0/1 mask.
    const dHidden = g.op('Mul', [g.op('MatMul', [dLogits, state.w2]), g.op('Sign', [a1])]);
    const allGradients = {
      ...gradients,
      w1: g.op('Gemm', [dHidden, x], { transA: 1 }),
      b1: g.op('ReduceSum', [dHidden, axis0], { keepdims: 0 }),
    };

    const stepSize = g.op('Gather', [stepSizes, stepIndex], { axis: 0 });
    const biasCorrection2Sqrt = g.op('Gather', [biasCorrections, stepIndex], { axis: 0 });
    for (const name of HEAD_PARAMETER_NAMES) {
      const grad = allGradients[name];
      const m = g.op('Add', [g.op('Mul', [state[`m_${name}`], beta1]), g.op('Mul', [grad, oneMinusBeta1])]);
      const v = g.op('Add', [g.op('Mul', [state[`v_${name}`], beta2]), g.op('Mul', [g.op('Mul', [grad, grad]), oneMinusBeta2])]);
      // torch.optim.Adam: denom = √v / √(1 − β2^t) + ε;  p −= lr / (1 − β1^t) · m / denom
      const denominator = g.op('Add', [g.op('Div', [g.op('Sqrt', [v]), biasCorrection2Sqrt]), epsilon]);
      const parameter = g.op('Sub', [state[name], g.op('Mul', [g.op('Div', [m, denominator]), stepSize])]);
      state[`m_${name}`] = m;
      state[`v_${name}`] = v;
      state[name] = parameter;
    }
  }

  for (const name of TRAINING_STATE_NAMES) {
    const parameter = name.replace(/^[mv]_/, '') as keyof typeof dims;
    g.node('Identity', [state[name]], [TRAINING_STEP.next(name)]);
    g.output(TRAINING_STEP.next(name), 'float', dims[parameter]);
  }
  g.node('Concat', lossSums, [TRAINING_STEP.lossSum], { axis: 0 });
  g.node('Concat', correctCounts, [TRAINING_STEP.correctCount], { axis: 0 });
  g.output(TRAINING_STEP.lossSum, 'float', [steps]);
  g.output(TRAINING_STEP.correctCount, 'float', [steps]);
  return g.build();
}

function addParameterInputs(g: GraphBuilder, shape: HeadShape, prefix: string): Record<(typeof HEAD_PARAMETER_NAMES)[number], string> {
  return {
    w1: g.input(`${prefix}w1`, 'float', [shape.hiddenUnits, shape.featureSize]),
    b1: g.input(`${prefix}b1`, 'float', [shape.hiddenUnits]),
    w2: g.input(`${prefix}w2`, 'float', [shape.classCount, shape.hiddenUnits]),
    b2: g.input(`${prefix}b2`, 'float', [shape.classCount]),
  };
}

function addForward(g: GraphBuilder, x: string, p: { w1: string; b1: string; w2: string; b2: string }): { a1: string; logits: string } {
  const a1 = g.op('Relu', [g.op('Gemm', [x, p.w1, p.b1], { transB: 1 })]);
  const logits = g.op('Gemm', [a1, p.w2, p.b2], { transB: 1 });
  return { a1, logits };
}

/** Summed cross-entropy [1] and correct-prediction count [1] (as float) of a batch of logits. */
function addLossAndAccuracy(g: GraphBuilder, logits: string, labels: string): { logProbabilities: string; lossSum: string; correctCount: string } {
  const axis0 = g.constant(BigInt64Array.of(0n));
  const axis1 = g.constant(BigInt64Array.of(1n));
  const logProbabilities = g.op('LogSoftmax', [logits], { axis: 1 });
  const labelColumn = g.op('Unsqueeze', [labels, axis1]);
  const pickedLogProbabilities = g.op('GatherElements', [logProbabilities, labelColumn], { axis: 1 });
  // [B,1] summed over the batch axis leaves shape [1]
  const lossSum = g.op('Neg', [g.op('ReduceSum', [pickedLogProbabilities, axis0], { keepdims: 0 })]);
  const predictions = g.op('ArgMax', [logits], { axis: 1, keepdims: 0 });
  const correct = g.op('Cast', [g.op('Equal', [predictions, labels])], { to: 1 });
  const correctCount = g.op('ReduceSum', [correct, axis0], { keepdims: 1 });
  return { logProbabilities, lossSum, correctCount };
}
