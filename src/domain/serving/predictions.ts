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
