import { randomNormal, seededRandom, type Random } from '../../core/random.ts';
import type { Preprocessing } from '../../domain/training/training-job.ts';
import { GraphBuilder } from './graph-builder.ts';

export interface SampleBackbone {
  onnx: Uint8Array;
  inputName: string;
  outputName: string;
  featureSize: number;
  preprocessing: Preprocessing;
}

const IMAGE_SIZE = 64;
const INPUT_NAME = 'image';
const OUTPUT_NAME = 'features';
/** Output channels of the three random conv layers. */
const DEEP_CHANNELS = [48, 96, 96] as const;

/** ImageNet statistics, as for torchvision backbones, so the sample shares their preprocessing. */
const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

const LUMINANCE = [0.299, 0.587, 0.114];
/** Channel mixes: the colours themselves, luminance, and the red–green and blue–yellow opponents. */
const COLOUR_MIXES = [[1, 0, 0], [0, 1, 0], [0, 0, 1], LUMINANCE, [1, -1, 0], [-0.5, -0.5, 1]];
const EDGE_MIXES = [LUMINANCE, [1, -1, 0], [-0.5, -0.5, 1]];
/** 3×3 kernels: Sobel x and y, both diagonals, and two Laplacians (blobs, dots, thin lines). */
const EDGE_KERNELS = [
  [-1, 0, 1, -2, 0, 2, -1, 0, 1],
  [-1, -2, -1, 0, 0, 0, 1, 2, 1],
  [0, 1, 2, -1, 0, 1, -2, -1, 0],
  [-2, -1, 0, -1, 0, 1, 0, 1, 2],
  [0, -1, 0, -1, 4, -1, 0, -1, 0],
  [1, 1, 1, 1, -8, 1, 1, 1, 1],
];

/**
 * A small frozen CNN that Kennel writes itself, standing in for a pretrained backbone on a machine
 * that cannot download one. Nothing is trained: the features are discriminative by construction.
 *
 *   colour = ReLU(1×1 conv: 6 colour mixes, each ±)                         [N,12,64,64]
 *   edges  = |3×3 conv: 6 edge kernels × 3 colour mixes|                    [N,18,64,64]
 *   deep   = edges → maxpool 2 → (3×3 conv random → ReLU → maxpool 2) × 2
 *                  → 3×3 conv random → ReLU                                  [N,96,8,8]
 *   features = [mean(colour), max(4×4 means of colour), mean(edges), mean(deep), max(deep)]  [N,234]
 *
 * Colour statistics separate classes by palette; edge energies by orientation and texture; the
 * deep random layers see ~40 px of edge maps, which is enough for corners, curves and pattern
 * frequency. Edge responses are rectified with Abs, not ReLU, so an outline looks the same light on
 * dark as dark on light, and the deep filters are zero-mean so they respond to the arrangement of
 * edges rather than to how many there are. Global pooling makes everything independent of where
 * an object sits. About 26 M multiply-adds per image (~0.4 ms on 2 cores); the same seed gives
 * byte-identical ONNX.
 */
export function buildSampleBackbone(seed = 7): SampleBackbone {
  const random = seededRandom(seed);
  const g = new GraphBuilder('kennel_sample_backbone');
  const image = g.input(INPUT_NAME, 'float', ['batch', 3, IMAGE_SIZE, IMAGE_SIZE]);

  const colourWeights = COLOUR_MIXES.flatMap((mix) => [mix, mix.map((w) => -w)]);
  const colourFilters = g.constant(Float32Array.from(colourWeights.flat()), [colourWeights.length, 3, 1, 1]);
  const colour = g.op('Relu', [g.op('Conv', [image, colourFilters], { kernel_shape: [1, 1] })]);
  // The max over 4×4 means, not single pixels, so JPEG noise does not set the maximum.
  const colourPatches = g.op('AveragePool', [colour], { kernel_shape: [4, 4], strides: [4, 4] });

  // Each edge kernel applied to a mix of the channels; /4 scales Sobel's gain of 4 to about 1.
  const edgeWeights = EDGE_MIXES.flatMap((mix) => EDGE_KERNELS.map((kernel) => mix.flatMap((w) => kernel.map((k) => (k * w) / 4))));
  const edgeFilters = g.constant(Float32Array.from(edgeWeights.flat()), [edgeWeights.length, 3, 3, 3]);
  const edges = g.op('Abs', [g.op('Conv', [image, edgeFilters], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);

  let deep = g.op('MaxPool', [edges], { kernel_shape: [2, 2], strides: [2, 2] });
  let inChannels = edgeWeights.length;
  for (const [layer, outChannels] of DEEP_CHANNELS.entries()) {
    const filters = g.constant(zeroMeanFilters(random, outChannels, inChannels), [outChannels, inChannels, 3, 3]);
    deep = g.op('Relu', [g.op('Conv', [deep, filters], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
    if (layer < DEEP_CHANNELS.length - 1) deep = g.op('MaxPool', [deep], { kernel_shape: [2, 2], strides: [2, 2] });
    inChannels = outChannels;
  }

  const summaries = [
    g.op('GlobalAveragePool', [colour]),
    g.op('GlobalMaxPool', [colourPatches]),
    g.op('GlobalAveragePool', [edges]),
    g.op('GlobalAveragePool', [deep]),
    g.op('GlobalMaxPool', [deep]),
  ];
  g.node('Flatten', [g.op('Concat', summaries, { axis: 1 })], [OUTPUT_NAME], { axis: 1 });
  const featureSize = 2 * colourWeights.length + edgeWeights.length + 2 * inChannels;
  g.output(OUTPUT_NAME, 'float', ['batch', featureSize]);

  return {
    onnx: g.build({ docString: `Kennel sample backbone (seed ${seed}): fixed CNN features for generated sample images.` }),
    inputName: INPUT_NAME,
    outputName: OUTPUT_NAME,
    featureSize,
    preprocessing: { resizeSize: IMAGE_SIZE, cropSize: IMAGE_SIZE, mean: IMAGENET_MEAN, std: IMAGENET_STD, layout: 'NCHW' },
  };
}

/** He-scaled random 3×3 filters with each filter's mean removed. */
function zeroMeanFilters(random: Random, outChannels: number, inChannels: number): Float32Array {
  const fanIn = inChannels * 9;
  const std = Math.sqrt(2 / fanIn);
  const weights = new Float32Array(outChannels * fanIn);
  for (let o = 0; o < outChannels; o++) {
    const filter = weights.subarray(o * fanIn, (o + 1) * fanIn);
    let sum = 0;
    for (let i = 0; i < fanIn; i++) {
      filter[i] = randomNormal(random) * std;
      sum += filter[i];
    }
    const mean = sum / fanIn;
    for (let i = 0; i < fanIn; i++) filter[i] -= mean;
  }
  return weights;
}
