import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { seededRandom } from '../../core/random.ts';
import { preprocessBatch } from '../images/preprocess.ts';
import { generateSampleImages } from '../samples/sample-images.ts';
import { evaluateHead, trainHead, type LabelledFeatures } from '../training/head-trainer.ts';
import { buildSampleBackbone } from './sample-backbone.ts';

describe('buildSampleBackbone', () => {
  it('writes byte-identical ONNX for a seed and different weights for another', () => {
    const a = buildSampleBackbone(7).onnx;
    assert.deepEqual(buildSampleBackbone(7).onnx, a);
    assert.notDeepEqual(buildSampleBackbone(8).onnx, a);
  });

  it('maps a batch of images to one non-negative feature vector each', async () => {
    const backbone = buildSampleBackbone();
    const { cropSize } = backbone.preprocessing;
    assert.equal(backbone.preprocessing.layout, 'NCHW');
    const random = seededRandom(1);
    const images = Float32Array.from({ length: 2 * 3 * cropSize * cropSize }, () => random.next() * 4 - 2);
    const session = await ort.InferenceSession.create(backbone.onnx);
    try {
      const out = await session.run({ [backbone.inputName]: new ort.Tensor('float32', images, [2, 3, cropSize, cropSize]) });
      const features = out[backbone.outputName];
      assert.deepEqual(features.dims, [2, backbone.featureSize]);
      const data = features.data as Float32Array;
      assert.ok(data.every((v) => v >= 0 && Number.isFinite(v)));
      const first = data.subarray(0, backbone.featureSize);
      const second = data.subarray(backbone.featureSize);
      assert.ok(first.some((v, i) => Math.abs(v - second[i]) > 1e-3), 'different images give different features');
    } finally {
      await session.release();
    }
  });

  it('gives features on which a head learns the generated sample images', { timeout: 120_000 }, async () => {
    const folder = await mkdtemp(join(tmpdir(), 'kennel-sample-backbone-'));
    try {
      const images = join(folder, 'images');
      const set = await generateSampleImages(images, { seed: 3, classes: 12, perClass: { train: 30, valid: 8, test: 20 } });
      const backbone = buildSampleBackbone();
      const session = await ort.InferenceSession.create(backbone.onnx);
      const embed = async (split: string): Promise<LabelledFeatures> => {
        const bytes: Uint8Array[] = [];
        const labels: number[] = [];
        for (const [label, classFolder] of set.classes.entries()) {
          for (const file of (await readdir(join(images, split, classFolder))).sort()) {
            bytes.push(await readFile(join(images, split, classFolder, file)));
            labels.push(label);
          }
        }
        const { cropSize } = backbone.preprocessing;
        const input = await preprocessBatch(bytes, backbone.preprocessing);
        const out = await session.run({ [backbone.inputName]: new ort.Tensor('float32', input, [bytes.length, 3, cropSize, cropSize]) });
        return { features: out[backbone.outputName].data as Float32Array, labels: Int32Array.from(labels) };
      };
      const [train, validation, test] = [await embed('train'), await embed('valid'), await embed('test')];
      await session.release();

      const { weights } = await trainHead({
        train,
        validation,
        featureSize: backbone.featureSize,
        classCount: set.classes.length,
        hyperParameters: { learning_rate: 0.003, batch_size: 32, epochs: 15, hidden_units: 128, seed: 0 },
      });
      const { accuracy } = await evaluateHead(weights, test);
      assert.ok(accuracy >= 0.95, `test accuracy ${accuracy}`);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
