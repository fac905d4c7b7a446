/** One class score in an endpoint's answer. */
export interface Prediction {
  label: string;
  index: number;
  probability: number;
}

/** The `topK` most probable classes, most probable first; ties keep the lower index first. */
export function topPredictions(probabilities: ArrayLike<number>, labels: readonly string[], topK: number): Prediction[] {
  const order = Array.from({ length: probabilities.length }, (_, index) => index);
  order.sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return order.slice(0, Math.min(topK, order.length)).map((index) => ({
    label: labels[index] ?? String(index),
    index,
    probability: probabilities[index],
  }));
}

/** What a model's class scores are: probabilities as they are, logits that need a softmax, or `auto` (absent) to tell from the values. */
export type ScoreKind = 'probabilities' | 'logits';

/** Tolerance on a probability row's sum: float32 softmax outputs of 1,000 classes sum to 1 within ~1e-5. */
const SUM_TOLERANCE = 1e-3;

/**
 * The scores of one image as probabilities. Declared logits get a softmax (max-subtracted, so large
 * logits do not overflow); declared probabilities are used as they are. Undeclared, a row that already
 * is a distribution (every score in [0, 1], summing to 1) is kept and anything else gets the softmax:
 * a torchvision export answers logits, a Kennel head probabilities, and neither needs saying.
 */
export function asProbabilities(scores: Float32Array, kind: ScoreKind | undefined): Float32Array {
  if (kind === 'probabilities' || (kind === undefined && isDistribution(scores))) return scores;
  let max = -Infinity;
  for (const score of scores) if (score > max) max = score;
  const out = new Float32Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    out[i] = Math.exp(scores[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

function isDistribution(scores: Float32Array): boolean {
  let sum = 0;
  for (const score of scores) {
    if (!(score >= 0 && score <= 1)) return false;
    sum += score;
  }
  return Math.abs(sum - 1) <= SUM_TOLERANCE;
}
