import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../../core/random.ts';
import { openBackbone } from './backbone-session.ts';
import { GraphBuilder, type Dim } from './graph-builder.ts';
import { buildSampleBackbone } from './sample-backbone.ts';

/**
 * A ResNet-shaped stand-in: a 1×1 conv 3 → `features` channels, then global average pooling,
 * so image i's feature f is Σc W[f,c]·mean(channel c) and the output is [N, features, 1, 1].
 */
function pooledConvModel(options: { input: Dim[]; output: Dim[]; features?: number }): { onnx: Uint8Array; weights: Float32Array } {
  const features = options.features ?? 4;
  const weights = Float32Array.from({ length: features * 3 }, (_, i) => i - 5);
  const g = new GraphBuilder('pooled');
  const image = g.input('pixels', 'float', options.input);
  const conv = g.op('Conv', [image, g.initializer('w', weights, [features, 3, 1, 1])], { kernel_shape: [1, 1] });
  g.node('GlobalAveragePool', [conv], ['pooled']);
  g.output('pooled', 'float', options.output);
  return { onnx: g.build(), weights };
}

/** Returns its input: an [N,3,8,8] feature map, not a vector. */
function featureMapModel(outputShape: Dim[] = ['n', 3, 8, 8]): Uint8Array {
  const g = new GraphBuilder('map');
  g.node('Identity', [g.input('image', 'float', ['n', 3, 8, 8])], ['map']);
  g.output('map', 'float', outputShape);
  return g.build();
}

function expectedPooled(images: Float32Array, count: number, side: number, weights: Float32Array): number[] {
  const features = weights.length / 3;
  const plane = side * side;
  const out: number[] = [];
  for (let n = 0; n < count; n++) {
    const means = [0, 1, 2].map((c) => images.subarray((n * 3 + c) * plane, (n * 3 + c + 1) * plane).reduce((a, b) => a + b, 0) / plane);
    for (let f = 0; f < features; f++) out.push(means.reduce((sum, m, c) => sum + weights[f * 3 + c] * m, 0));
  }
  return out;
}

function randomImages(count: number, side: number, seed = 1): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count * 3 * side * side }, () => random.next() * 2 - 1);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < 1e-4, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

describe('openBackbone', () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'kennel-backbone-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('opens the sample backbone from a file and reads names, size and layout from the model', async () => {
    const sample = buildSampleBackbone();
    const path = join(folder, 'sample.onnx');
    await writeFile(path, sample.onnx);
    const extractor = await openBackbone(path, { digest: 'sha', preprocessing: sample.preprocessing });
    try {
      assert.deepEqual(extractor.backbone, {
        digest: 'sha',
        inputName: sample.inputName,
        outputName: sample.outputName,
        featureSize: sample.featureSize,
        preprocessing: sample.preprocessing,
      });
      const images = randomImages(3, 64);
      const batch = await extractor.extract(images, 3);
      assert.equal(batch.length, 3 * sample.featureSize);
      const single = await extractor.extract(images.subarray(2 * 3 * 64 * 64), 1);
      assertClose(batch.subarray(2 * sample.featureSize), single);
    } finally {
      await extractor.close();
    }
  });

  it('flattens [N,F,1,1], probes a symbolic feature size and defaults to ImageNet preprocessing (resize 256, crop 224)', async () => {
    const { onnx, weights } = pooledConvModel({ input: ['n', 3, 'h', 'w'], output: ['n', 'f', 'a', 'b'], features: 5 });
    const extractor = await openBackbone(onnx, { digest: 'sha' });
    try {
      assert.equal(extractor.backbone.featureSize, 5);
      assert.equal(extractor.backbone.inputName, 'pixels');
      assert.equal(extractor.backbone.outputName, 'pooled');
      assert.deepEqual(extractor.backbone.preprocessing, {
        resizeSize: 256,
        cropSize: 224,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
        layout: 'NCHW',
      });
      const images = randomImages(2, 224);
      assertClose(await extractor.extract(images, 2), expectedPooled(images, 2, 224, weights));
    } finally {
      await extractor.close();
    }
  });

  it('runs a fixed-batch model one batch at a time and takes its image size from the model', async () => {
    const { onnx, weights } = pooledConvModel({ input: [1, 3, 8, 8], output: [1, 4, 1, 1] });
    const extractor = await openBackbone(onnx, { digest: 'sha', preprocessing: { resizeSize: 10 } });
    try {
      assert.equal(extractor.backbone.preprocessing.cropSize, 8);
      assert.equal(extractor.backbone.preprocessing.resizeSize, 10);
      const images = randomImages(3, 8);
      assertClose(await extractor.extract(images, 3), expectedPooled(images, 3, 8, weights));
    } finally {
      await extractor.close();
    }
  });

  it('recognises channels-last input', async () => {
    const g = new GraphBuilder('nhwc');
    const image = g.input('image', 'float', ['n', 16, 16, 3]);
    g.node('ReduceMean', [image], ['mean'], { axes: [1, 2], keepdims: 0 });
    g.output('mean', 'float', ['n', 3]);
    const extractor = await openBackbone(g.build(), { digest: 'sha' });
    try {
      assert.equal(extractor.backbone.preprocessing.layout, 'NHWC');
      assert.equal(extractor.backbone.preprocessing.cropSize, 16);
      assert.equal(extractor.backbone.featureSize, 3);
    } finally {
      await extractor.close();
    }
  });

  it('refuses what cannot serve as a backbone, saying why', async () => {
    const refusals: [string, Uint8Array | string, Record<string, unknown>, RegExp][] = [
      ['bytes that are not ONNX', new TextEncoder().encode('not a model'), {}, /The backbone is not a loadable ONNX model/],
      ['a missing file', join(folder, 'missing.onnx'), {}, /missing\.onnx is not a loadable ONNX model/],
      ['an output that is a feature map', featureMapModel(), {}, /output map has shape \[n, 3, 8, 8\], not one feature vector per image/],
      ['a feature map behind symbolic dims', featureMapModel(['n', 'c', 'h', 'w']), {}, /output map has shape \[.*8, 8\], not one feature vector per image/],
      ['a wrong input name', pooledConvModel({ input: ['n', 3, 8, 8], output: ['n', 4, 1, 1] }).onnx, { inputName: 'image' }, /no input named "image"; its inputs are "pixels"/],
      [
        'a feature size the model contradicts',
        pooledConvModel({ input: ['n', 3, 8, 8], output: ['n', 4, 1, 1] }).onnx,
        { featureSize: 2048 },
        /outputs 4 features from pooled, not 2048/,
      ],
      [
        'a crop size the model cannot take',
        pooledConvModel({ input: ['n', 3, 8, 8], output: ['n', 4, 1, 1] }).onnx,
        { preprocessing: { cropSize: 224 } },
        /takes 8×8 images, but preprocessing.cropSize is 224/,
      ],
    ];
    for (const [what, onnx, options, message] of refusals) {
      await assert.rejects(openBackbone(onnx, { digest: 'sha', ...options }), { code: 'ValidationError', message }, what);
    }
  });

  it('asks which output is the feature vector when there are several', async () => {
    const g = new GraphBuilder('two-outputs');
    const x = g.input('image', 'float', ['n', 3, 4, 4]);
    g.node('GlobalAveragePool', [x], ['average']);
    g.node('GlobalMaxPool', [x], ['max']);
    g.output('average', 'float', ['n', 3, 1, 1]);
    g.output('max', 'float', ['n', 3, 1, 1]);
    const onnx = g.build();
    await assert.rejects(openBackbone(onnx, { digest: 'sha' }), { code: 'ValidationError', message: /outputs "average", "max"; say which one is the feature vector with outputName/ });
    const extractor = await openBackbone(onnx, { digest: 'sha', outputName: 'max' });
    const images = randomImages(1, 4);
    const features = await extractor.extract(images, 1);
    await extractor.close();
    assert.deepEqual(Array.from(features), [0, 1, 2].map((c) => Math.max(...images.subarray(c * 16, (c + 1) * 16))));
  });

  it('is closed once even when closed twice', async () => {
    const extractor = await openBackbone(buildSampleBackbone().onnx, { digest: 'sha' });
    await extractor.close();
    await extractor.close();
    await assert.rejects(extractor.extract(new Float32Array(3 * 64 * 64), 1));
  });
});
