import { GraphBuilder } from '../runtime/onnx/graph-builder.ts';

/**
 * A backbone that takes long on purpose: three features (the image's mean
 * colour), plus a large matrix product that depends on the image, so ONNX
 * Runtime cannot fold it away, and whose result is multiplied by zero. Each
 * image costs `size`³ × 2 × `products` multiply-adds: 0.1 to 0.3 s at the
 * default on one core of these machines, by the day. For tests of what the
 * server does while an endpoint is saturated.
 */
export function buildSlowBackbone(options: { size?: number; products?: number } = {}): Uint8Array {
  const size = options.size ?? 1024;
  const products = options.products ?? 12;
  const g = new GraphBuilder('kennel_slow_backbone');
  const image = g.input('image', 'float', ['batch', 3, 224, 224]);
  const features = g.op('Flatten', [g.op('GlobalAveragePool', [image])], { axis: 1 });
  const mean = g.op('ReduceMean', [image], { keepdims: 0 });
  const square = g.op('Expand', [mean, g.constant(BigInt64Array.of(BigInt(size), BigInt(size)))]);
  let product = square;
  for (let i = 0; i < products; i++) product = g.op('MatMul', [product, square]);
  // The product overflows to infinity, and infinity × 0 is NaN: its NaN-ness (0 or 1) × 0 is a finite 0 that still needs it.
  const overflowed = g.op('Cast', [g.op('IsNaN', [g.op('ReduceMean', [product], { keepdims: 0 })])], { to: 1 });
  const nothing = g.op('Mul', [overflowed, g.scalar(0)]);
  g.op('Add', [features, nothing], {}, 'features');
  g.output('features', 'float', ['batch', 3]);
  return g.build({ docString: 'Kennel test backbone: slow on purpose.' });
}
