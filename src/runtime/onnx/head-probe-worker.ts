import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { describeError, DomainError } from '../../core/errors.ts';
import { failureOf, type WorkerFailure } from '../workers/worker-errors.ts';

/**
 * A worker thread that opens a head.onnx given at CreateModel and answers how many class scores it
 * gives (see head-probe.ts): parsing a model that is not Kennel's own, and running it, is kept off
 * the server's thread.
 */
export type HeadProbeReply = { kind: 'probed'; classes: number } | ({ kind: 'failed' } & WorkerFailure);

const { head, featureSize } = workerData as { head: Uint8Array; featureSize: number };
probe(head, featureSize).then(
  (classes) => parentPort!.postMessage({ kind: 'probed', classes } satisfies HeadProbeReply),
  (error: unknown) => parentPort!.postMessage({ kind: 'failed', ...failureOf(error) } satisfies HeadProbeReply),
);

async function probe(head: Uint8Array, featureSize: number): Promise<number> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(head, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (error) {
    throw new DomainError('ValidationError', `head.onnx is not a loadable ONNX model: ${describeError(error)}`);
  }
  try {
    if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
      throw new DomainError('ValidationError', `head.onnx must have one input (the features) and one output (the class scores); it has inputs ${session.inputNames.join(', ')} and outputs ${session.outputNames.join(', ')}`);
    }
    const output = await session
      .run({ [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(featureSize), [1, featureSize]) })
      .catch((error: unknown) => {
        throw new DomainError('ValidationError', `head.onnx does not take the backbone's ${featureSize} features as a [1, ${featureSize}] float32 tensor: ${describeError(error)}`);
      });
    const scores = output[session.outputNames[0]];
    if (scores.type !== 'float32' || scores.dims.length !== 2 || scores.dims[0] !== 1) {
      throw new DomainError('ValidationError', `head.onnx must answer float32 scores of shape [N, classes]; it answered ${scores.type} [${scores.dims.join(', ')}]`);
    }
    return scores.dims[1];
  } finally {
    await session.release();
  }
}
