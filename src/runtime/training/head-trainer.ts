import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { DomainError } from '../../core/errors.ts';
import { deriveSeed, seededRandom } from '../../core/random.ts';
import { epochBatches } from '../../domain/training/batches.ts';
import {
  HEAD_PARAMETER_NAMES,
  headParameterDims,
  headParameterSizes,
  initHeadWeights,
  type HeadParameterName,
  type HeadShape,
  type HeadWeights,
} from '../../domain/training/head-weights.ts';
import { addBatch, EMPTY_TOTALS, meanMetrics, type MeanMetrics, type MetricTotals } from '../../domain/training/metrics.ts';
import type { EpochMetrics, HeadHyperParameters } from '../../domain/training/training-job.ts';
import { tensorStatistics } from '../../domain/debugger/tensor-statistics.ts';
import type { TraceStep } from '../../domain/debugger/trace.ts';
import {
  adamStepScalars,
  buildHeadEvaluationModel,
  buildHeadProbeModel,
  PROBE,
  buildHeadTrainingStepModel,
  EVALUATION,
  parameterOf,
  TRAINING_STATE_NAMES,
  TRAINING_STEP,
  type TrainingStateName,
} from '../onnx/head-model.ts';

/** Backbone features of some images (row-major, samples × featureSize) and their class indices. */
export interface LabelledFeatures {
  features: Float32Array;
  labels: ArrayLike<number>;
}

/**
 * Everything training needs to go on after `epoch` epochs exactly as if it had
 * not stopped: the weights, Adam's moments and step count, and the metrics so
 * far. The batch order is replayed from the seed.
 */
export interface TrainerCheckpoint {
  epoch: number;
  step: number;
  state: Record<TrainingStateName, Float32Array>;
  epochs: EpochMetrics[];
}

export interface TrainHeadOptions {
  train: LabelledFeatures;
  validation: LabelledFeatures;
  featureSize: number;
  classCount: number;
  hyperParameters: HeadHyperParameters;
  /**
   * Called after every epoch; training waits for a returned promise. `checkpoint`
   * copies the state out (~3.4 MB at the reference size), so call it only when the
   * checkpoint is wanted.
   */
  onEpoch?: (metrics: EpochMetrics, checkpoint: () => TrainerCheckpoint) => void | Promise<void>;
  /** Go on from here instead of from freshly initialised weights; it must come from the same data and hyperparameters. */
  resumeFrom?: TrainerCheckpoint;
  /** Checked before each epoch; true ends training early with the epochs done so far. */
  shouldStop?: () => boolean;
  /** ONNX Runtime threads; defaults to every core. */
  intraOpNumThreads?: number;
  /**
   * Optimiser steps per ONNX Runtime run. Each run has a fixed cost (~0.2 ms) and writes the
   * ~3.4 MB of weights and Adam state (at the reference size) out, so unrolling steps pays until
   * the graph gets unwieldy; 16 measured fastest at the reference size.
   */
  stepsPerRun?: number;
  /** Milliseconds, for EpochMetrics.seconds; defaults to performance.now. */
  now?: () => number;
  /** The debugger's hook: every step's loss and timing, and about every `saveInterval`th step the tensors and ReLU activity. */
  debug?: DebugHook;
}

export interface DebugHook {
  /** Tensors and ReLU activity are saved about every this many steps; without it, only each step's loss and timing are recorded. */
  saveInterval?: number;
  /**
   * Save the first this-many steps too (0 by default), rounded up to whole runs: what
   * PoorWeightInitialization judges. They run in shorter runs so that run starts, which the
   * probe sees, land on them...
   */
  saveFirstSteps?: number;
  /** ...every this-many steps (1, each step, by default; rounded down to a length that divides stepsPerRun). */
  saveFirstEvery?: number;
  onStep: (step: TraceStep) => void;
}

export interface TrainHeadResult {
  weights: HeadWeights;
  epochs: EpochMetrics[];
}

const DEFAULT_STEPS_PER_RUN = 16;
/** Rows per evaluation run: large enough to amortise a run, small enough to bound memory. */
const EVALUATION_BATCH = 4096;

/**
 * Trains the head Linear(F,H) → ReLU → Linear(H,C) with Adam (PyTorch semantics) on softmax
 * cross-entropy over precomputed backbone features. Every epoch shuffles the training set, trains
 * on every sample (the last partial batch included), and reports train metrics (means over the
 * epoch's samples, measured before each batch's update, as a PyTorch training loop does) and
 * validation metrics after the epoch. Deterministic for a given seed and thread count.
 */
export async function trainHead(options: TrainHeadOptions): Promise<TrainHeadResult> {
  const { featureSize, classCount, hyperParameters: hp } = options;
  const shape: HeadShape = { featureSize, hiddenUnits: hp.hidden_units, classCount };
  const train = toOrtData(options.train, 'train', shape);
  const validation = toOrtData(options.validation, 'validation', shape);
  const now = options.now ?? (() => performance.now());
  const sessionOptions = ortSessionOptions(options.intraOpNumThreads);

  const initial = initHeadWeights(shape, seededRandom(deriveSeed(hp.seed, 'head-init')));
  const batchOrder = seededRandom(deriveSeed(hp.seed, 'batch-order'));
  const state = new OptimiserState(shape, initial);
  const stepsPerRun = options.stepsPerRun ?? DEFAULT_STEPS_PER_RUN;
  if (!Number.isInteger(stepsPerRun) || stepsPerRun < 1) {
    throw new DomainError('ValidationError', `stepsPerRun must be a positive integer, got ${stepsPerRun}`, {
      field: 'stepsPerRun',
    });
  }
  const resume = options.resumeFrom;
  if (resume) {
    state.restore(resume);
    // The shuffles of the epochs done, drawn again so the next epoch's order is the one it would have had.
    for (let epoch = 1; epoch <= resume.epoch; epoch++) epochBatches(train.count, hp.batch_size, batchOrder);
  }
  const stepper = new TrainingStepper(shape, sessionOptions, train);
  const evaluator = await HeadEvaluator.open(shape, sessionOptions);
  const probe = options.debug?.saveInterval !== undefined ? await HeadProbe.open(shape, sessionOptions, train) : undefined;
  const savedSteps = new SavedSteps(options.debug?.saveInterval ?? 1, probe ? (options.debug?.saveFirstSteps ?? 0) : 0, options.debug?.saveFirstEvery ?? 1, stepsPerRun);
  const epochs: EpochMetrics[] = resume ? [...resume.epochs] : [];
  try {
    for (let epoch = (resume?.epoch ?? 0) + 1; epoch <= hp.epochs; epoch++) {
      if (options.shouldStop?.()) break;
      const startedMs = now();
      const batches = epochBatches(train.count, hp.batch_size, batchOrder);
      let totals: MetricTotals = { ...EMPTY_TOTALS };
      for (let first = 0; first < batches.length; ) {
        // Equal-sized batches share one run; the last partial batch gets a run of its own.
        const size = batches[first].length;
        let count = 1;
        while (count < stepsPerRun && first + count < batches.length && batches[first + count].length === size) count++;
        // The probe sees the weights a run starts from: the first steps, when wanted, run in short runs so that it sees them.
        if (state.step < savedSteps.fromTheStart) count = Math.min(count, savedSteps.firstRun);
        const run = batches.slice(first, first + count);
        const saved = probe ? savedSteps.take(state.step) : undefined;
        const probed = saved ? await probe!.probe(state.current, run[0]!, saved.withHistogram) : undefined;
        // A run length not seen before builds its session first: that is not the steps' time.
        await stepper.prepare(count);
        const startedAt = now();
        const result = await stepper.run(state, run, hp.learning_rate);
        const computeMs = (now() - startedAt) / count;
        totals = addBatch(totals, result);
        const { debug } = options;
        // Features are precomputed (the embedding cache) and gathered inside the graph: no step waits for data.
        if (debug) {
          result.losses.forEach((loss, s) => {
            const tensors = s === 0 ? (probed?.tensors ?? []) : [];
            const relus = s === 0 ? (probed?.relus ?? []) : [];
            debug.onStep({ step: state.step - count + s, epoch, loss, learningRate: hp.learning_rate, dataMs: 0, computeMs, tensors, relus });
          });
        }
        first += count;
      }
      const trainMetrics = meanMetrics(totals);
      const validationMetrics = await evaluator.evaluate(state.current, validation);
      const metrics: EpochMetrics = {
        epoch,
        trainLoss: trainMetrics.loss,
        trainAccuracy: trainMetrics.accuracy,
        validationLoss: validationMetrics.loss,
        validationAccuracy: validationMetrics.accuracy,
        seconds: (now() - startedMs) / 1000,
      };
      epochs.push(metrics);
      await options.onEpoch?.(metrics, () => state.checkpoint(epoch, epochs));
    }
    return { weights: state.weights(), epochs };
  } finally {
    await Promise.all([stepper.close(), evaluator.close(), probe?.close()]);
  }
}

/**
 * Which steps the hook saves: each of the first `fromTheStart` (a whole number of runs, so that
 * the runs after them have the lengths they would have had, and no session is built for a
 * length training never uses), then the first run start in each window of saveInterval steps.
 * Saving only where a run starts leaves the runs whole: cutting them to land on exact multiples
 * built a session per odd length, which cost more than the recording.
 */
class SavedSteps {
  readonly #interval: number;
  readonly fromTheStart: number;
  /** The length of the runs over the first steps: the largest that divides stepsPerRun and is at most saveFirstEvery. */
  readonly firstRun: number;
  #lastWindow = -1;

  constructor(saveInterval: number, saveFirstSteps: number, saveFirstEvery: number, stepsPerRun: number) {
    this.#interval = Math.max(1, Math.floor(saveInterval));
    this.fromTheStart = Math.ceil(Math.max(0, saveFirstSteps) / stepsPerRun) * stepsPerRun;
    let run = Math.max(1, Math.min(stepsPerRun, Math.floor(saveFirstEvery)));
    while (stepsPerRun % run !== 0) run--;
    this.firstRun = run;
  }

  /** Whether the run starting at `step` is saved; histograms for the first step and every tenth window. */
  take(step: number): { withHistogram: boolean } | undefined {
    const window = Math.floor(step / this.#interval);
    const early = step < this.fromTheStart;
    if (!early && window <= this.#lastWindow) return undefined;
    const first = window > this.#lastWindow;
    this.#lastWindow = Math.max(this.#lastWindow, window);
    return { withHistogram: step === 0 || (!early && first && window % 10 === 0) };
  }
}

/** Mean cross-entropy and accuracy of the head on labelled features. */
export async function evaluateHead(
  weights: HeadWeights,
  data: LabelledFeatures,
  options: { intraOpNumThreads?: number } = {},
): Promise<MeanMetrics> {
  const evaluator = await HeadEvaluator.open(weights, ortSessionOptions(options.intraOpNumThreads));
  try {
    const parameters = Object.fromEntries(
      HEAD_PARAMETER_NAMES.map((name) => [name, new ort.Tensor('float32', weights[name], headParameterDims(weights)[name])]),
    ) as Record<string, ort.Tensor>;
    return await evaluator.evaluate(parameters, toOrtData(data, 'evaluation', weights));
  } finally {
    await evaluator.close();
  }
}

interface OrtData {
  features: Float32Array;
  labels: BigInt64Array;
  count: number;
  featuresTensor: ort.Tensor;
  labelsTensor: ort.Tensor;
}

function toOrtData(data: LabelledFeatures, split: string, shape: HeadShape): OrtData {
  const count = data.labels.length;
  if (count === 0) {
    throw new DomainError('ValidationError', `The ${split} split has no samples; the head needs at least one`);
  }
  if (data.features.length !== count * shape.featureSize) {
    throw new DomainError(
      'ValidationError',
      `The ${split} split has ${count} labels but ${data.features.length} feature values; expected ${count} × ${shape.featureSize}`,
    );
  }
  const labels = new BigInt64Array(count);
  for (let i = 0; i < count; i++) {
    const label = data.labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= shape.classCount) {
      const message = `The ${split} split has label ${label} at sample ${i}; labels must be integers from 0 to ${shape.classCount - 1}`;
      throw new DomainError('ValidationError', message);
    }
    labels[i] = BigInt(label);
  }
  return {
    features: data.features,
    labels,
    count,
    featuresTensor: new ort.Tensor('float32', data.features, [count, shape.featureSize]),
    labelsTensor: new ort.Tensor('int64', labels, [count]),
  };
}

/**
 * Spinning is off: a trainer holds several sessions (one per unrolled step count, plus evaluation),
 * and tuning runs trainers side by side, so threads spinning for work steal the cores the running
 * session needs. Measured at the reference size on this 2-core machine under other load:
 * 0.14 s/epoch without spinning against 0.21 s with it, and 40% less CPU time.
 */
function ortSessionOptions(intraOpNumThreads = availableParallelism()): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

type StateTensors = Record<TrainingStateName, ort.Tensor>;

/**
 * Weights and Adam moments in two preallocated buffer sets: each run reads one set and writes the
 * other straight into place (ONNX Runtime fills preallocated outputs), then the roles swap.
 */
class OptimiserState {
  current: StateTensors;
  private spare: StateTensors;
  /** Adam's step count t, for the bias corrections. */
  step = 0;

  constructor(
    private readonly shape: HeadShape,
    initial: HeadWeights,
  ) {
    this.current = this.allocate();
    this.spare = this.allocate();
    for (const name of HEAD_PARAMETER_NAMES) (this.current[name].data as Float32Array).set(initial[name]);
  }

  /** Fetches that make the next run write into the spare set. */
  nextFetches(): Record<string, ort.Tensor> {
    return Object.fromEntries(TRAINING_STATE_NAMES.map((name) => [TRAINING_STEP.next(name), this.spare[name]]));
  }

  swap(): void {
    [this.current, this.spare] = [this.spare, this.current];
  }

  checkpoint(epoch: number, epochs: readonly EpochMetrics[]): TrainerCheckpoint {
    const state = Object.fromEntries(
      TRAINING_STATE_NAMES.map((name) => [name, (this.current[name].data as Float32Array).slice()]),
    ) as Record<TrainingStateName, Float32Array>;
    return { epoch, step: this.step, state, epochs: [...epochs] };
  }

  restore(checkpoint: TrainerCheckpoint): void {
    for (const name of TRAINING_STATE_NAMES) {
      const target = this.current[name].data as Float32Array;
      const source = checkpoint.state[name];
      if (!source || source.length !== target.length) {
        throw new DomainError('ValidationError', `The checkpoint does not fit this head: ${name} has ${source?.length ?? 0} values, not ${target.length}`);
      }
      target.set(source);
    }
    this.step = checkpoint.step;
  }

  weights(): HeadWeights {
    const copy = (name: HeadParameterName) => (this.current[name].data as Float32Array).slice();
    return { ...this.shape, w1: copy('w1'), b1: copy('b1'), w2: copy('w2'), b2: copy('b2') };
  }

  private allocate(): StateTensors {
    const sizes = headParameterSizes(this.shape);
    const dims = headParameterDims(this.shape);
    return Object.fromEntries(
      TRAINING_STATE_NAMES.map((name) => {
        const parameter = parameterOf(name);
        return [name, new ort.Tensor('float32', new Float32Array(sizes[parameter]), dims[parameter])];
      }),
    ) as StateTensors;
  }
}

/** Runs training-step graphs, one session per number of unrolled steps, built on first use. */
class TrainingStepper {
  private readonly sessions = new Map<number, Promise<ort.InferenceSession>>();

  constructor(
    private readonly shape: HeadShape,
    private readonly sessionOptions: ort.InferenceSession.SessionOptions,
    private readonly train: OrtData,
  ) {}

  /** Trains on `batches` (all the same size) in order and returns their summed metrics. */
  async run(state: OptimiserState, batches: Int32Array[], learningRate: number): Promise<MetricTotals & { losses: number[] }> {
    const steps = batches.length;
    const batchSize = batches[0].length;
    const indices = new BigInt64Array(steps * batchSize);
    const stepSize = new Float32Array(steps);
    const epsilonHat = new Float32Array(steps);
    batches.forEach((batch, s) => {
      for (let i = 0; i < batchSize; i++) indices[s * batchSize + i] = BigInt(batch[i]);
      state.step++;
      ({ stepSize: stepSize[s], epsilonHat: epsilonHat[s] } = adamStepScalars(learningRate, state.step));
    });
    const session = await this.session(steps);
    const outputs = await session.run(
      {
        [TRAINING_STEP.features]: this.train.featuresTensor,
        [TRAINING_STEP.labels]: this.train.labelsTensor,
        [TRAINING_STEP.batchIndices]: new ort.Tensor('int64', indices, [steps, batchSize]),
        [TRAINING_STEP.stepSize]: new ort.Tensor('float32', stepSize, [steps]),
        [TRAINING_STEP.epsilonHat]: new ort.Tensor('float32', epsilonHat, [steps]),
        ...state.current,
      },
      { ...state.nextFetches(), [TRAINING_STEP.lossSum]: null, [TRAINING_STEP.correctCount]: null },
    );
    state.swap();
    const lossSums = outputs[TRAINING_STEP.lossSum].data as Float32Array;
    const correctCounts = outputs[TRAINING_STEP.correctCount].data as Float32Array;
    let totals: MetricTotals = { ...EMPTY_TOTALS };
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      totals = addBatch(totals, { lossSum: lossSums[s], correct: correctCounts[s], count: batchSize });
      losses.push(lossSums[s] / batchSize);
    }
    return { ...totals, losses };
  }

  /** Builds the session for runs of `steps` steps, if it is not built yet. */
  async prepare(steps: number): Promise<void> {
    await this.session(steps);
  }

  async close(): Promise<void> {
    // A session that failed to load has nothing to release; the failure was reported where it happened.
    const created = await Promise.allSettled(this.sessions.values());
    await Promise.all(created.flatMap((result) => (result.status === 'fulfilled' ? [result.value.release()] : [])));
  }

  private session(steps: number): Promise<ort.InferenceSession> {
    let session = this.sessions.get(steps);
    if (!session) {
      session = ort.InferenceSession.create(buildHeadTrainingStepModel({ ...this.shape, steps }), this.sessionOptions);
      this.sessions.set(steps, session);
    }
    return session;
  }
}

/** The debugger's look at one batch: gradients and ReLU activity at the current weights, changing nothing. */
class HeadProbe {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly train: OrtData,
    private readonly featureSize: number,
  ) {}

  static async open(shape: HeadShape, sessionOptions: ort.InferenceSession.SessionOptions, train: OrtData): Promise<HeadProbe> {
    return new HeadProbe(await ort.InferenceSession.create(buildHeadProbeModel(shape), sessionOptions), train, shape.featureSize);
  }

  /** `withHistogram` for the report's distributions: the first saved step and every tenth after it. */
  async probe(parameters: StateTensors, batch: Int32Array, withHistogram: boolean): Promise<Pick<TraceStep, 'tensors' | 'relus'>> {
    const { featureSize } = this;
    const features = new Float32Array(batch.length * featureSize);
    const labels = new BigInt64Array(batch.length);
    batch.forEach((row, i) => {
      features.set(this.train.features.subarray(row * featureSize, (row + 1) * featureSize), i * featureSize);
      labels[i] = this.train.labels[row]!;
    });
    const outputs = await this.session.run({
      [PROBE.features]: new ort.Tensor('float32', features, [batch.length, featureSize]),
      [PROBE.labels]: new ort.Tensor('int64', labels, [batch.length]),
      ...Object.fromEntries(HEAD_PARAMETER_NAMES.map((name) => [name, parameters[name]])),
    });
    const tensors = HEAD_PARAMETER_NAMES.map((name) => {
      const values = parameters[name].data as Float32Array;
      const [sumSquares, sum, gradientSumSquares, gradientSumAbs, nanCount, infiniteCount] = outputs[PROBE.sums(name)]!.data as Float32Array;
      const sums = { count: values.length, sumSquares: sumSquares!, sum: sum!, gradientSumSquares: gradientSumSquares!, gradientSumAbs: gradientSumAbs!, nanCount: nanCount!, infiniteCount: infiniteCount! };
      return tensorStatistics(name, sums, outputs[PROBE.gradient(name)]!.data as Float32Array, withHistogram ? values : undefined);
    });
    const active = outputs[PROBE.activeCount]!.data as Float32Array;
    return { tensors, relus: [{ layer: 'relu1', activePercent: Array.from(active, (count) => (100 * count) / batch.length) }] };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Forward pass only, summed loss and correct count per chunk; weights are fed per call. */
class HeadEvaluator {
  private constructor(
    private readonly shape: HeadShape,
    private readonly session: ort.InferenceSession,
  ) {}

  static async open(shape: HeadShape, sessionOptions: ort.InferenceSession.SessionOptions): Promise<HeadEvaluator> {
    return new HeadEvaluator(shape, await ort.InferenceSession.create(buildHeadEvaluationModel(shape), sessionOptions));
  }

  async evaluate(parameters: Record<string, ort.Tensor>, data: OrtData): Promise<MeanMetrics> {
    const weights = Object.fromEntries(HEAD_PARAMETER_NAMES.map((name) => [name, parameters[name]]));
    const { featureSize } = this.shape;
    let totals: MetricTotals = { ...EMPTY_TOTALS };
    for (let start = 0; start < data.count; start += EVALUATION_BATCH) {
      const end = Math.min(start + EVALUATION_BATCH, data.count);
      const features = data.features.subarray(start * featureSize, end * featureSize);
      const outputs = await this.session.run({
        [EVALUATION.features]: new ort.Tensor('float32', features, [end - start, featureSize]),
        [EVALUATION.labels]: new ort.Tensor('int64', data.labels.subarray(start, end), [end - start]),
        ...weights,
      });
      totals = addBatch(totals, {
        lossSum: (outputs[EVALUATION.lossSum].data as Float32Array)[0],
        correct: (outputs[EVALUATION.correctCount].data as Float32Array)[0],
        count: end - start,
      });
    }
    return meanMetrics(totals);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
