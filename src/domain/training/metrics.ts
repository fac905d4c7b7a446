import { DomainError } from '../../core/errors.ts';

/**
 * Running sums over the samples seen so far. Means are taken over samples, not batches, so a
 * last partial batch weighs exactly as much as its samples do.
 */
export interface MetricTotals {
  lossSum: number;
  correct: number;
  count: number;
}

export interface MeanMetrics {
  loss: number;
  accuracy: number;
}

export const EMPTY_TOTALS: Readonly<MetricTotals> = { lossSum: 0, correct: 0, count: 0 };

/** Adds one batch: the sum of its per-sample losses, how many it got right, and its size. */
export function addBatch(totals: MetricTotals, batch: MetricTotals): MetricTotals {
  return {
    lossSum: totals.lossSum + batch.lossSum,
    correct: totals.correct + batch.correct,
    count: totals.count + batch.count,
  };
}

/** Mean loss per sample and fraction correct, both as real (not floor) divisions. */
export function meanMetrics(totals: MetricTotals): MeanMetrics {
  if (totals.count <= 0) {
    throw new DomainError('Internal', 'metrics were averaged over zero samples');
  }
  return { loss: totals.lossSum / totals.count, accuracy: totals.correct / totals.count };
}
