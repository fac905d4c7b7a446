import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { seededRandom } from '../../core/random.ts';
import { openBackbone } from './backbone-session.ts';
import { buildSampleBackbone } from './sample-backbone.ts';
import { openBackboneInWorker } from './worker-backbone.ts';

describe('openBackboneInWorker', () => {
  it('gives the same features as the backbone in this thread, batch after batch, and keeps the caller’s buffer', async () => {
    const sample = buildSampleBackbone();
    const options = { digest: 'sample', inputName: sample.inputName, outputName: sample.outputName, featureSize: sample.featureSize, preprocessing: sample.preprocessing, intraOpNumThreads: 1 };
    const here = await openBackbone(sample.onnx, options);
    const there = await openBackboneInWorker(sample.onnx, options);
    try {
      assert.deepEqual(there.backbone, here.backbone);
      const { cropSize } = sample.preprocessing;
      const random = seededRandom(3);
      for (const batch of [1, 3]) {
        const input = Float32Array.from({ length: batch * 3 * cropSize * cropSize }, () => random.next());
        const [expected, actual] = await Promise.all([here.extract(input, batch), there.extract(input, batch)]);
        assert.deepEqual(actual, expected);
        assert.equal(input.length, batch * 3 * cropSize * cropSize, 'the input buffer is still the caller’s');
      }
    } finally {
      await Promise.all([here.close(), there.close()]);
    }
  });

  it('refuses a model that is not ONNX, with the same error as in this thread', async () => {
    await assert.rejects(
      openBackboneInWorker(new TextEncoder().encode('not a model'), { digest: 'x' }),
      (error: unknown) => error instanceof DomainError && error.code === 'ValidationError' && /not a loadable ONNX model/.test(error.message),
    );
  });
});
