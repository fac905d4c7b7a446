import type { Histogram, TensorStatistics } from './trace.ts';

/** Entries sampled for a gradient's percentiles: enough for the 5th and 95th to within a fraction of a percent. */
const SPREAD_SAMPLE = 4096;
export const HISTOGRAM_BINS = 30;

/** The figures the rules and the report read, of a tensor and its gradient. */
export function tensorStatistics(name: string, values: Float32Array, gradient: Float32Array, options: { histogram: boolean }): TensorStatistics {
  const v = moments(values);
  const g = moments(gradient);
  return {
    name,
    norm: Math.sqrt(v.sumSquares),
    variance: v.count > 0 ? Math.max(0, v.sumSquares / v.count - (v.sum / v.count) ** 2) : 0,
    gradientNorm: Math.sqrt(g.sumSquares),
    gradientMeanAbs: g.count > 0 ? g.sumAbs / g.count : 0,
    gradientSpread: spread(gradient),
    nanCount: v.nan + g.nan,
    infiniteCount: v.infinite + g.infinite,
    ...(options.histogram ? { histogram: histogram(values, HISTOGRAM_BINS) } : {}),
  };
}

/** Sums over the finite entries, and counts of the others. */
function moments(values: Float32Array): { count: number; sum: number; sumSquares: number; sumAbs: number; nan: number; infinite: number } {
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  let sumAbs = 0;
  let nan = 0;
  let infinite = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isNaN(x)) nan++;
    else if (!Number.isFinite(x)) infinite++;
    else {
      count++;
      sum += x;
      sumSquares += x * x;
      sumAbs += Math.abs(x);
    }
  }
  return { count, sum, sumSquares, sumAbs, nan, infinite };
}

/** The 95th less the 5th percentile of the finite entries, over an evenly strided sample. */
function spread(values: Float32Array): number {
  const stride = Math.max(1, Math.floor(values.length / SPREAD_SAMPLE));
  const sample: number[] = [];
  for (let i = 0; i < values.length; i += stride) if (Number.isFinite(values[i]!)) sample.push(values[i]!);
  if (sample.length === 0) return 0;
  sample.sort((a, b) => a - b);
  const at = (p: number) => sample[Math.min(sample.length - 1, Math.floor(p * (sample.length - 1)))]!;
  return at(0.95) - at(0.05);
}

export function histogram(values: Float32Array, bins: number): Histogram {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x)) continue;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const counts = new Array<number>(bins).fill(0);
  if (min > max) return { min: 0, max: 0, counts };
  const width = (max - min) / bins || 1;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isFinite(x)) counts[Math.min(bins - 1, Math.floor((x - min) / width))]!++;
  }
  return { min, max, counts };
}
