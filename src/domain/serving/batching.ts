/**
 * Dynamic batching of one variant's requests, as model servers do it (Triton's
 * dynamic batcher, TorchServe's batch_size and max_batch_delay): a pure policy
 * asked whenever an instance is free. A full batch goes at once; a partial one
 * waits for more requests, but never keeps its oldest request waiting longer
 * than maxDelayMs. With maxBatchSize 1, every request goes alone at once.
 */
export interface BatchingPolicy {
  maxBatchSize: number;
  maxDelayMs: number;
}

export const NO_BATCHING: BatchingPolicy = { maxBatchSize: 1, maxDelayMs: 0 };

export type BatchDecision =
  /** Send the `count` oldest requests as one batch now. */
  | { kind: 'dispatch'; count: number }
  /** Ask again at `untilMs`, or sooner if a request arrives. */
  | { kind: 'wait'; untilMs: number }
  | { kind: 'idle' };

/** `arrivalsMs`: when each queued request arrived, oldest first. */
export function decideBatch(arrivalsMs: readonly number[], policy: BatchingPolicy, nowMs: number): BatchDecision {
  if (arrivalsMs.length === 0) return { kind: 'idle' };
  if (arrivalsMs.length >= policy.maxBatchSize) return { kind: 'dispatch', count: policy.maxBatchSize };
  const deadline = arrivalsMs[0] + policy.maxDelayMs;
  if (nowMs >= deadline) return { kind: 'dispatch', count: arrivalsMs.length };
  return { kind: 'wait', untilMs: deadline };
}
