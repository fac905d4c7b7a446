import { randomNormal, seededRandom } from '../../src/core/random.ts';
import type { LabelledFeatures } from '../../src/runtime/training/head-trainer.ts';

/** The reference size: ResNet50's pooled features, 133 breeds. */
export const FEATURES = 2048;
export const CLASSES = 133;

/** Non-negative, class-dependent features, shaped like pooled ReLU activations of a ResNet. */
export function syntheticFeatures(count: number, seed: number): LabelledFeatures {
  const random = seededRandom(seed);
  const centres = seededRandom(42);
  const centre = Float32Array.from({ length: CLASSES * FEATURES }, () => (centres.next() < 0.1 ? centres.next() * 2 : 0));
  const features = new Float32Array(count * FEATURES);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = Math.floor(random.next() * CLASSES);
    labels[i] = label;
    for (let f = 0; f < FEATURES; f++) {
      features[i * FEATURES + f] = Math.max(0, centre[label * FEATURES + f] + randomNormal(random) * 0.5);
    }
  }
  return { features, labels };
}
