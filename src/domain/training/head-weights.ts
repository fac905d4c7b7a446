import { DomainError } from '../../core/errors.ts';
import type { Random } from '../../core/random.ts';

/** Sizes of the classifier head Linear(featureSize, hiddenUnits) → ReLU → Linear(hiddenUnits, classCount). */
export interface HeadShape {
  featureSize: number;
  hiddenUnits: number;
  classCount: number;
}

/**
 * Parameters of the head. Matrices are row-major in PyTorch's nn.Linear layout (out × in), so
 * `w1[h * featureSize + f]` is the weight from feature f to hidden unit h and a PyTorch
 * state_dict maps onto these arrays without transposing.
 */
export interface HeadWeights extends HeadShape {
  /** hiddenUnits × featureSize */
  w1: Float32Array;
  /** hiddenUnits */
  b1: Float32Array;
  /** classCount × hiddenUnits */
  w2: Float32Array;
  /** classCount */
  b2: Float32Array;
}

export const HEAD_PARAMETER_NAMES = ['w1', 'b1', 'w2', 'b2'] as const;
export type HeadParameterName = (typeof HEAD_PARAMETER_NAMES)[number];

/** Tensor shape of each parameter, in the layout documented on HeadWeights. */
export function headParameterDims(shape: HeadShape): Record<HeadParameterName, number[]> {
  return {
    w1: [shape.hiddenUnits, shape.featureSize],
    b1: [shape.hiddenUnits],
    w2: [shape.classCount, shape.hiddenUnits],
    b2: [shape.classCount],
  };
}

/** Element count of each parameter tensor. */
export function headParameterSizes(shape: HeadShape): Record<HeadParameterName, number> {
  const dims = headParameterDims(shape);
  const count = (name: HeadParameterName) => dims[name].reduce((a, b) => a * b, 1);
  return { w1: count('w1'), b1: count('b1'), w2: count('w2'), b2: count('b2') };
}

/**
 * PyTorch's nn.Linear default initialisation: kaiming_uniform_(a=√5) on the weight, which works
 * out to U(−1/√fan_in, 1/√fan_in), and the same bound for the bias.
 */
export function initHeadWeights(shape: HeadShape, random: Random): HeadWeights {
  assertHeadShape(shape);
  const sizes = headParameterSizes(shape);
  const uniform = (count: number, fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = (random.next() * 2 - 1) * bound;
    return out;
  };
  return {
    ...shape,
    w1: uniform(sizes.w1, shape.featureSize),
    b1: uniform(sizes.b1, shape.featureSize),
    w2: uniform(sizes.w2, shape.hiddenUnits),
    b2: uniform(sizes.b2, shape.hiddenUnits),
  };
}

export function assertHeadShape(shape: HeadShape): void {
  for (const key of ['featureSize', 'hiddenUnits', 'classCount'] as const) {
    const value = shape[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new DomainError('ValidationError', `head ${key} must be a positive integer, got ${value}`, { field: key });
    }
  }
}

/** Checks that every parameter array has the length its shape implies. */
export function assertHeadWeights(weights: HeadWeights): void {
  assertHeadShape(weights);
  const sizes = headParameterSizes(weights);
  for (const name of HEAD_PARAMETER_NAMES) {
    if (weights[name].length !== sizes[name]) {
      const message = `head weights ${name} has ${weights[name].length} values, expected ${sizes[name]}`;
      throw new DomainError('ValidationError', message, { field: name });
    }
  }
}
