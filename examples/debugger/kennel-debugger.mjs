// Kennel's debugger from a script-mode training script in Node.js: one file, no dependencies.
//
// Copy this file next to your entry point. Kennel gives every script-mode job the file to
// write to (KENNEL_DEBUGGER_TRACE) and how often to save tensors (KENNEL_DEBUGGER_SAVE_INTERVAL,
// set when the job has a DebugHookConfig or a debugger rule); outside Kennel the recorder does
// nothing. Each call appends one JSON line in Kennel's trace protocol (docs/debugger.md).
// Kennel samples CPU and memory itself, and evaluates the job's rules on what the script records.
//
//   import { Recorder } from './kennel-debugger.mjs';
//   const debug = new Recorder();
//   const batch = await debug.loading(() => loader.next());   // time spent waiting for data
//   const loss = debug.computing(() => trainStep(batch));     // time spent computing
//   debug.step(step, loss, { epoch, learningRate, tensors: { w1: [w1, gradW1] }, relus: { relu1: [[...], ...] } });
//   debug.epoch(epoch, trainLoss, { validationLoss });
//
// Tensors are arrays or typed arrays (nested arrays are flattened); their statistics are computed
// only at the steps the hook saves (debug.saves(step)).
import { appendFileSync } from 'node:fs';

const HISTOGRAM_BINS = 30;
const SPREAD_SAMPLE = 4096;

const flat = (values) => (ArrayBuffer.isView(values) ? Array.from(values) : Array.isArray(values) ? values.flat(Infinity).map(Number) : [Number(values)]);
const percentile = (sorted, p) => (sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]);
// JSON has no NaN or Infinity: Kennel reads them as strings.
const number = (value) => (Number.isFinite(value) ? value : String(value));

// Loops, not Math.min(...values): spreading a layer's 262,144 weights overflows the call stack.
function histogram(values) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) if (Number.isFinite(v)) (min = Math.min(min, v)), (max = Math.max(max, v));
  if (min > max) return undefined;
  const width = (max - min) / HISTOGRAM_BINS || 1;
  const counts = new Array(HISTOGRAM_BINS).fill(0);
  for (const v of values) if (Number.isFinite(v)) counts[Math.min(HISTOGRAM_BINS - 1, Math.floor((v - min) / width))]++;
  return { min, max, counts };
}

const count = (values, test) => {
  let n = 0;
  for (const v of values) if (test(v)) n++;
  return n;
};

/** The figures Kennel's tensor rules read, for one tensor and its gradient. */
export function tensorStatistics(name, values, gradient, withHistogram = false) {
  const v = flat(values);
  const g = gradient === undefined ? v.map(() => 0) : flat(gradient);
  const n = Math.max(1, v.length);
  const sumSquares = v.reduce((sum, x) => sum + x * x, 0);
  const mean = v.reduce((sum, x) => sum + x, 0) / n;
  const finiteG = g.filter(Number.isFinite);
  const sample = (finiteG.length <= SPREAD_SAMPLE ? finiteG : finiteG.filter((_, i) => i % Math.ceil(finiteG.length / SPREAD_SAMPLE) === 0)).sort((a, b) => a - b);
  const stats = {
    name,
    norm: number(Math.sqrt(sumSquares)),
    variance: number(Math.max(0, sumSquares / n - mean * mean)),
    gradient_norm: number(Math.sqrt(g.reduce((sum, x) => sum + x * x, 0))),
    gradient_mean_abs: number(g.reduce((sum, x) => sum + Math.abs(x), 0) / Math.max(1, g.length)),
    gradient_spread: number(percentile(sample, 95) - percentile(sample, 5)),
    nan_count: count(v, Number.isNaN) + count(g, Number.isNaN),
    infinite_count: count(v, (x) => x === Infinity || x === -Infinity) + count(g, (x) => x === Infinity || x === -Infinity),
  };
  const hist = withHistogram ? histogram(v) : undefined;
  return hist ? { ...stats, histogram: hist } : stats;
}

/** Per unit, the percentage of the batch's samples for which it was above zero; activations are batch × units. */
export function reluActivity(layer, activations) {
  const rows = activations.map(flat);
  const units = rows[0]?.length ?? 0;
  const active = new Array(units).fill(0);
  for (const row of rows) row.forEach((a, i) => a > 0 && active[i]++);
  return { layer, active_percent: active.map((a) => (100 * a) / Math.max(1, rows.length)) };
}

export class Recorder {
  constructor({
    path = process.env.KENNEL_DEBUGGER_TRACE,
    saveInterval = process.env.KENNEL_DEBUGGER_SAVE_INTERVAL,
    saveFirstSteps = process.env.KENNEL_DEBUGGER_SAVE_FIRST_STEPS,
    saveFirstEvery = process.env.KENNEL_DEBUGGER_SAVE_FIRST_EVERY,
  } = {}) {
    this.path = path;
    this.saveInterval = saveInterval ? Number(saveInterval) : undefined;
    this.saveFirstSteps = Number(saveFirstSteps ?? 0);
    this.saveFirstEvery = Math.max(1, Number(saveFirstEvery ?? 1));
    this.dataMs = 0;
    this.computeMs = 0;
    this.saved = 0;
  }

  /** Whether the hook saves tensors at this step. */
  saves(step) {
    if (this.saveInterval === undefined) return false;
    return step < this.saveFirstSteps ? step % this.saveFirstEvery === 0 : step % this.saveInterval === 0;
  }

  /** Runs `load` (sync or async), counting its time as the next step's data loading. */
  async loading(load) {
    const start = performance.now();
    try {
      return await load();
    } finally {
      this.dataMs += performance.now() - start;
    }
  }

  /** Runs `compute`, counting its time as the next step's compute. */
  computing(compute) {
    const start = performance.now();
    try {
      return compute();
    } finally {
      this.computeMs += performance.now() - start;
    }
  }

  step(step, loss, { epoch, learningRate, dataMs, computeMs, tensors, relus } = {}) {
    const record = { type: 'step', step, loss: number(loss), data_ms: dataMs ?? this.dataMs, compute_ms: computeMs ?? this.computeMs };
    this.dataMs = this.computeMs = 0;
    if (epoch !== undefined) record.epoch = epoch;
    if (learningRate !== undefined) record.learning_rate = number(learningRate);
    if (this.saves(step)) {
      // A histogram at every tenth save keeps the trace small.
      const withHistogram = this.saved++ % 10 === 0;
      if (tensors) record.tensors = Object.entries(tensors).map(([name, [values, gradient]]) => tensorStatistics(name, values, gradient, withHistogram));
      if (relus) record.relus = Object.entries(relus).map(([layer, activations]) => reluActivity(layer, activations));
    }
    this.#write(record);
  }

  epoch(epoch, trainLoss, { step, validationLoss, trainAccuracy, validationAccuracy } = {}) {
    const optional = { step, validation_loss: validationLoss, train_accuracy: trainAccuracy, validation_accuracy: validationAccuracy };
    const record = { type: 'epoch', epoch, train_loss: number(trainLoss) };
    for (const [key, value] of Object.entries(optional)) if (value !== undefined) record[key] = key === 'step' ? value : number(value);
    this.#write(record);
  }

  classes(labels, samples, mispredicted) {
    this.#write({ type: 'classes', labels: labels.map(String), samples, ...(mispredicted ? { mispredicted } : {}) });
  }

  #write(record) {
    // One whole line per append: Kennel reads whole lines only, as they come.
    if (this.path) appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}
