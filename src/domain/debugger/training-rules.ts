import { issueFound, nothingFound, numberParameter as num, type BuiltInRule, type RuleParameters } from './rule.ts';
import type { TensorStatistics, TraceStep } from './trace.ts';

/**
 * SageMaker Debugger's training rules, with its parameter names and defaults. Evaluations that
 * SageMaker makes per validation run (Overfit, Overtraining) are made per epoch here: Kennel
 * validates once an epoch.
 */

const recorded = (steps: readonly TraceStep[]) => steps.filter((step) => step.tensors.length > 0 || step.relus.length > 0);

function matching<T extends { name?: string; layer?: string }>(items: readonly T[], pattern: RuleParameters[string]): T[] {
  if (typeof pattern !== 'object') return [...items];
  return items.filter((item) => pattern.test(item.name ?? item.layer ?? ''));
}

const fmt = (value: number) => (Math.abs(value) >= 0.01 || value === 0 ? value.toFixed(3) : value.toExponential(2));

export const VANISHING_GRADIENT: BuiltInRule = {
  name: 'VanishingGradient',
  kind: 'debug',
  parameters: { threshold: { default: '0.0000001', kind: 'number', min: 0, description: 'The mean absolute gradient below which a gradient has vanished.' } },
  meaning: 'A layer’s gradients are so small that its weights have all but stopped changing: training learns nothing more through it.',
  advice: 'Raise the learning rate, use a different initialisation, or check that the loss is connected to the layer (a detached tensor has no gradient).',
  evaluate(trace, parameters, context) {
    const threshold = num(parameters, 'threshold');
    for (const step of recorded(trace.steps)) {
      const vanished = step.tensors.find((tensor) => tensor.gradientMeanAbs < threshold);
      if (vanished) return issueFound(step.step, `${vanished.name}: mean |gradient| ${fmt(vanished.gradientMeanAbs)} at step ${step.step}, under ${fmt(threshold)}`);
    }
    return nothingFound(context, 'Every recorded gradient is above the threshold.');
  },
};

export const EXPLODING_TENSOR: BuiltInRule = {
  name: 'ExplodingTensor',
  kind: 'debug',
  parameters: {
    only_nan: { default: 'False', kind: 'boolean', description: 'Look for NaN only, not for infinite values.' },
    tensor_regex: { default: '', kind: 'regex', description: 'Only the tensors whose names match this regular expression (all when empty).' },
  },
  meaning: 'A loss, weight or gradient became NaN or infinite: the numbers have overflowed and training cannot recover from there.',
  advice: 'Lower the learning rate (a huge one explodes first), clip gradients, or look for a division by zero or a log of zero in the loss.',
  evaluate(trace, parameters, context) {
    const onlyNan = parameters.only_nan === true;
    const bad = (value: number) => (onlyNan ? Number.isNaN(value) : !Number.isFinite(value));
    for (const step of trace.steps) {
      if (bad(step.loss)) return issueFound(step.step, `the loss is ${step.loss} at step ${step.step}`);
      const tensor = matching(step.tensors, parameters.tensor_regex).find((t) => t.nanCount > 0 || (!onlyNan && t.infiniteCount > 0));
      if (tensor) return issueFound(step.step, `${tensor.name} holds ${tensor.nanCount} NaN and ${tensor.infiniteCount} infinite values at step ${step.step}`);
    }
    return nothingFound(context, 'No loss, weight or gradient is NaN or infinite.');
  },
};

export const POOR_WEIGHT_INITIALIZATION: BuiltInRule = {
  name: 'PoorWeightInitialization',
  kind: 'debug',
  parameters: {
    threshold: { default: '10.0', kind: 'number', min: 0, description: 'The ratio of the largest to the smallest weight variance across layers above which the initialisation is poor.' },
    distribution_range: { default: '0.001', kind: 'number', min: 0, description: 'The spread of a gradient (95th less 5th percentile) below which it cannot tell weights apart.' },
    patience: { default: '5', kind: 'count', min: 1, description: 'How many recorded steps must show the problem before the rule fires.' },
    steps: { default: '10', kind: 'count', min: 1, description: 'How many steps from the start are examined.' },
  },
  ignored: ['activation_inputs_regex'],
  meaning: 'The weights started out of scale with each other, or with gradients too uniform to tell them apart: training stalls at the start.',
  advice: 'Use the framework’s default initialisation (Kaiming or Xavier for the layer’s activation), or normalise the inputs to the layer.',
  evaluate(trace, parameters, context) {
    const early = recorded(trace.steps).filter((step) => step.step < num(parameters, 'steps'));
    let seen = 0;
    for (const step of early) {
      const problem = varianceProblem(step.tensors, num(parameters, 'threshold')) ?? spreadProblem(step.tensors, num(parameters, 'distribution_range'));
      if (problem === undefined) continue;
      if (++seen >= num(parameters, 'patience')) return issueFound(step.step, `${problem} (at ${seen} of the first ${early.length} recorded steps)`);
    }
    if (early.length >= num(parameters, 'patience')) return { status: 'NoIssuesFound', details: 'The weights start in scale with each other and their gradients spread.' };
    const past = trace.steps.some((step) => step.step >= num(parameters, 'steps'));
    if (!past && !context.ended) return { status: 'InProgress', details: 'Not enough steps recorded yet.' };
    return {
      status: 'Error',
      details: `Only ${early.length} of the first ${num(parameters, 'steps')} steps were recorded, fewer than patience (${num(parameters, 'patience')}): record more often (the hook's save_interval) or lower patience.`,
    };
  },
};

/** Weight matrices only: biases start at other scales by design. */
function varianceProblem(tensors: readonly TensorStatistics[], threshold: number): string | undefined {
  const weights = tensors.filter((tensor) => tensor.variance > 0 && !/(^|\.)(b\d*|bias)$/.test(tensor.name));
  if (weights.length < 2) return undefined;
  const largest = weights.reduce((a, b) => (b.variance > a.variance ? b : a));
  const smallest = weights.reduce((a, b) => (b.variance < a.variance ? b : a));
  const ratio = largest.variance / smallest.variance;
  return ratio > threshold ? `the weight variance of ${largest.name} is ${fmt(ratio)}× that of ${smallest.name}, over ${fmt(threshold)}` : undefined;
}

function spreadProblem(tensors: readonly TensorStatistics[], range: number): string | undefined {
  const flat = tensors.find((tensor) => tensor.gradientSpread < range);
  return flat ? `the gradient of ${flat.name} spreads over only ${fmt(flat.gradientSpread)}, under ${fmt(range)}` : undefined;
}

export const LOSS_NOT_DECREASING: BuiltInRule = {
  name: 'LossNotDecreasing',
  kind: 'debug',
  parameters: {
    num_steps: { default: '10', kind: 'count', min: 1, description: 'The loss is compared across windows of this many steps.' },
    diff_percent: { default: '0', kind: 'number', min: 0, description: 'By how many percent each window’s mean loss must fall below the previous one’s (0: any fall).' },
  },
  ignored: ['tensor_regex'],
  meaning: 'The training loss stopped falling: the model learns nothing more at this learning rate.',
  advice: 'Lower the learning rate if the loss jumps about, raise it if the loss crawls; check the labels and the data for mistakes; stop early if the model is good enough.',
  evaluate(trace, parameters, context) {
    const window = num(parameters, 'num_steps');
    const losses = trace.steps.filter((step) => Number.isFinite(step.loss));
    const mean = (from: number) => losses.slice(from, from + window).reduce((sum, step) => sum + step.loss, 0) / window;
    for (let start = window; start + window <= losses.length; start += window) {
      const before = mean(start - window);
      const after = mean(start);
      if (after > before * (1 - num(parameters, 'diff_percent') / 100)) {
        const at = losses[start + window - 1]!.step;
        return issueFound(at, `the mean loss over steps to ${at} is ${fmt(after)}, against ${fmt(before)} over the ${window} steps before`);
      }
    }
    return nothingFound(context, `The mean loss fell in every window of ${window} steps.`);
  },
};

export const OVERFIT: BuiltInRule = {
  name: 'Overfit',
  kind: 'debug',
  parameters: {
    start_step: { default: '0', kind: 'count', description: 'Evaluations before this step are not compared.' },
    patience: { default: '1', kind: 'count', min: 1, description: 'How many evaluations in a row must overfit before the rule fires.' },
    ratio_threshold: { default: '0.1', kind: 'number', min: 0, description: 'The largest (validation loss − training loss) / training loss that is not overfitting.' },
  },
  ignored: ['tensor_regex'],
  meaning: 'The validation loss has moved away from the training loss: the model learns its training images rather than the breeds.',
  advice: 'Train on more (or augmented) images, stop earlier, lower the learning rate or the number of hidden units, or add weight decay or dropout.',
  evaluate(trace, parameters, context) {
    let run = 0;
    for (const epoch of trace.epochs) {
      if (epoch.validationLoss === undefined || epoch.step < num(parameters, 'start_step') || !(epoch.trainLoss > 0)) continue;
      const ratio = (epoch.validationLoss - epoch.trainLoss) / epoch.trainLoss;
      run = ratio > num(parameters, 'ratio_threshold') ? run + 1 : 0;
      if (run >= num(parameters, 'patience')) {
        return issueFound(epoch.step, `after epoch ${epoch.epoch} the validation loss ${fmt(epoch.validationLoss)} is ${fmt(ratio * 100)}% over the training loss ${fmt(epoch.trainLoss)}`);
      }
    }
    return nothingFound(context, 'The validation loss stays near the training loss.');
  },
};

export const OVERTRAINING: BuiltInRule = {
  name: 'Overtraining',
  kind: 'debug',
  parameters: {
    patience_train: { default: '5', kind: 'count', min: 1, description: 'Epochs without a new best training loss before the rule fires.' },
    patience_validation: { default: '10', kind: 'count', min: 1, description: 'Epochs without a new best validation loss before the rule fires.' },
    delta: { default: '0.1', kind: 'number', min: 0, description: 'How much lower a loss must be than the best so far to count as a new best.' },
  },
  meaning: 'The losses have stopped improving for many epochs: more training only costs time, and may overfit.',
  advice: 'Stop earlier (fewer epochs, or the tuner’s early stopping), or change the learning rate schedule.',
  evaluate(trace, parameters, context) {
    const delta = num(parameters, 'delta');
    const stalled = (values: readonly { value: number | undefined; step: number }[], patience: number) => {
      let best = Number.POSITIVE_INFINITY;
      let since = 0;
      for (const { value, step } of values) {
        if (value === undefined || !Number.isFinite(value)) continue;
        if (value < best - delta || best === Number.POSITIVE_INFINITY) (best = value), (since = 0);
        else if (++since >= patience) return step;
      }
      return undefined;
    };
    const train = stalled(trace.epochs.map((e) => ({ value: e.trainLoss, step: e.step })), num(parameters, 'patience_train'));
    const validation = stalled(trace.epochs.map((e) => ({ value: e.validationLoss, step: e.step })), num(parameters, 'patience_validation'));
    const first = [train, validation].filter((step): step is number => step !== undefined).sort((a, b) => a - b)[0];
    if (first !== undefined) {
      const which = first === train ? `training loss for ${num(parameters, 'patience_train')}` : `validation loss for ${num(parameters, 'patience_validation')}`;
      return issueFound(first, `no new best ${which} epochs (by at least ${fmt(delta)})`);
    }
    return nothingFound(context, 'The losses keep reaching new bests.');
  },
};

export const DEAD_RELU: BuiltInRule = {
  name: 'DeadRelu',
  kind: 'debug',
  parameters: {
    threshold_inactivity: { default: '1.0', kind: 'number', min: 0, description: 'A unit active for fewer than this percentage of a batch’s samples is dead.' },
    threshold_layer: { default: '50.0', kind: 'number', min: 0, description: 'The rule fires when more than this percentage of a layer’s units is dead.' },
    tensor_regex: { default: '', kind: 'regex', description: 'Only the ReLU layers whose names match this regular expression (all when empty).' },
  },
  meaning: 'Most units of a ReLU layer output zero for every input: they pass no gradient and the layer has stopped learning.',
  advice: 'Lower the learning rate (a large step can push units dead for good), use a different initialisation, or use LeakyReLU.',
  evaluate(trace, parameters, context) {
    for (const step of recorded(trace.steps)) {
      for (const relu of matching(step.relus, parameters.tensor_regex)) {
        if (relu.activePercent.length === 0) continue;
        const dead = relu.activePercent.filter((percent) => percent < num(parameters, 'threshold_inactivity')).length;
        const deadPercent = (100 * dead) / relu.activePercent.length;
        if (deadPercent > num(parameters, 'threshold_layer')) return issueFound(step.step, `${fmt(deadPercent)}% of ${relu.layer}'s ${relu.activePercent.length} units are dead at step ${step.step}`);
      }
    }
    return nothingFound(context, 'No ReLU layer is mostly dead.');
  },
};

export const CLASS_IMBALANCE: BuiltInRule = {
  name: 'ClassImbalance',
  kind: 'debug',
  parameters: {
    threshold_imbalance: { default: '10', kind: 'number', min: 0, description: 'The largest ratio of the biggest class to the smallest that is not imbalanced.' },
    threshold_misprediction: { default: '0.7', kind: 'number', min: 0, description: 'The largest fraction of a class’s validation samples predicted wrong that is acceptable.' },
  },
  ignored: ['samples', 'argmax', 'labels_regex', 'predictions_regex'],
  meaning: 'Some classes have far fewer training images than others, or are mostly predicted wrong: the model favours the big classes.',
  advice: 'Collect or augment images of the small classes, sample them more often, or weight the loss by class.',
  evaluate(trace, parameters, context) {
    const classes = trace.classes;
    if (classes === undefined || classes.samples.length === 0) return nothingFound(context, 'No class counts recorded yet.');
    const atStep = trace.steps.at(-1)?.step;
    const largest = Math.max(...classes.samples);
    const smallest = Math.min(...classes.samples);
    const name = (count: number) => classes.labels[classes.samples.indexOf(count)] ?? '?';
    if (smallest === 0 || largest / smallest > num(parameters, 'threshold_imbalance')) {
      return issueFound(atStep, `${name(largest)} has ${largest} training images and ${name(smallest)} ${smallest}: ${smallest === 0 ? 'an empty class' : `${fmt(largest / smallest)}×`}, over ${num(parameters, 'threshold_imbalance')}×`);
    }
    const wrong = (classes.mispredicted ?? []).findIndex((fraction) => fraction > num(parameters, 'threshold_misprediction'));
    if (wrong !== -1) return issueFound(atStep, `${fmt(classes.mispredicted![wrong]! * 100)}% of ${classes.labels[wrong]}'s validation images are predicted as another class`);
    return nothingFound(context, `The classes are within ${num(parameters, 'threshold_imbalance')}× of each other and none is mostly mispredicted.`);
  },
};

export const TRAINING_RULES: readonly BuiltInRule[] = [VANISHING_GRADIENT, EXPLODING_TENSOR, POOR_WEIGHT_INITIALIZATION, LOSS_NOT_DECREASING, OVERFIT, OVERTRAINING, DEAD_RELU, CLASS_IMBALANCE];
