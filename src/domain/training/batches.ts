import { DomainError } from '../../core/errors.ts';
import type { Random } from '../../core/random.ts';

/**
 * One epoch's mini-batches as sample indices: a fresh Fisher–Yates shuffle of 0..sampleCount−1
 * cut into batches of batchSize, the last one holding the remainder when sampleCount is not a
 * multiple (PyTorch DataLoader's shuffle=True, drop_last=False). Batches are views of one array.
 */
export function epochBatches(sampleCount: number, batchSize: number, random: Random): Int32Array[] {
  if (!Number.isInteger(sampleCount) || sampleCount < 1 || !Number.isInteger(batchSize) || batchSize < 1) {
    const message = `cannot batch ${sampleCount} samples in batches of ${batchSize}: both must be positive integers`;
    throw new DomainError('ValidationError', message);
  }
  const order = new Int32Array(sampleCount);
  for (let i = 0; i < sampleCount; i++) order[i] = i;
  for (let i = sampleCount - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  const batches: Int32Array[] = [];
  for (let start = 0; start < sampleCount; start += batchSize) {
    batches.push(order.subarray(start, Math.min(start + batchSize, sampleCount)));
  }
  return batches;
}
