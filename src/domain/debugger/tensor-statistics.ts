import { percentile } from '../serving/load-timeline.ts';
import type { Histogram, TensorStatistics } from './trace.ts';

/** Entries sampled for a gradient's percentiles: enough for the 5th and 95th to within a fraction of a percent. */
const SPREAD_SAMPLE = 4096;
export const HISTOGRAM_BINS = 30;

/** Sums over every entry of a tensor's values v and its gradient g; a NaN anywhere makes the sums NaN. */
export interface TensorSums {
  count: number;
  sumSquares: number;
  sum: number;
  gradientSumSquares: number;
  gradientSumAbs: number;
  nanCount: number;
  infiniteCount: number;
}

/** The figures the rules and the report read, from a tensor's sums, its gradient (for the spread) and, for a histogram, its values. */
export function tensorStatistics(name: string, sums: TensorSums, gradient: Float32Array, values?: Float32Array): TensorStatistics {
  const { count } = sums;
  return {
    name,
    norm: Math.sqrt(sums.sumSquares),
    variance: count > 0 ? Math.max(0, sums.sumSquares / count - (sums.sum / count) ** 2) : 0,
    gradientNorm: Math.sqrt(sums.gradientSumSquares),
    gradientMeanAbs: count > 0 ? sums.gradientSumAbs / count : 0,
    gradientSpread: spread(gradient),
    nanCount: sums.nanCount,
    infiniteCount: sums.infiniteCount,
    ...(values !== undefined ? { histogram: histogram(values, HISTOGRAM_BINS) } : {}),
  };
}

/**
 * The 95th less the 5th percentile of the finite entries, over an evenly strided sample. The
 * sample is a typed array sorted natively: sorting a number[] with a comparator took most of
 * a saved step's time at the reference size.
 */
function spread(values: Float32Array): number {
  const stride = Math.max(1, Math.floor(values.length / SPREAD_SAMPLE));
  const sample = new Float32Array(Math.ceil(values.length / stride));
  let count = 0;
  for (let i = 0; i < values.length; i += stride) {
    const value = values[i]!;
    if (Number.isFinite(value)) sample[count++] = value;
  }
  if (count === 0) return 0;
  const sorted = sample.subarray(0, count).sort();
  return percentile(sorted, 95) - percentile(sorted, 5);
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
