/**
 * One session of the batched bare pipeline (bare.ts openBatchedBare) in a worker thread of its
 * own, since onnxruntime-node's run() blocks the thread that calls it: the backbone on a batch of
 * preprocessed images, then the head on their features, top-5 of each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { topPredictions, type Prediction } from '../../src/domain/serving/predictions.ts';
import type { BackboneRef } from '../../src/domain/training/training-job.ts';

export interface BareWorkerData {
  modelPath: string;
  backbone: BackboneRef;
  headModel: Uint8Array;
  labels: string[];
  threads: number;
  spinning: boolean;
}

export type BareWorkerRequest = { kind: 'run'; id: number; images: Float32Array; count: number } | { kind: 'close' };
export type BareWorkerReply =
  | { kind: 'ready' }
  | { kind: 'done'; id: number; predictions: Prediction[][] }
  | { kind: 'failed'; id?: number; message: string }
  | { kind: 'closed' };

const port = parentPort!;
const data = workerData as BareWorkerData;
const ref = data.backbone;

try {
  const backbone = await ort.InferenceSession.create(data.modelPath, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: data.threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: data.spinning ? '1' : '0' } } },
  });
  const head = await ort.InferenceSession.create(data.headModel, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const { cropSize, layout } = ref.preprocessing;
  port.on('message', (request: BareWorkerRequest) => {
    if (request.kind === 'close') {
      void Promise.all([backbone.release(), head.release()]).finally(() => port.postMessage({ kind: 'closed' } satisfies BareWorkerReply));
      return;
    }
    void (async () => {
      const { id, images, count } = request;
      const dims = layout === 'NCHW' ? [count, 3, cropSize, cropSize] : [count, cropSize, cropSize, 3];
      const out = await backbone.run({ [ref.inputName]: new ort.Tensor('float32', images, dims) }, [ref.outputName]);
      const features = out[ref.outputName].data as Float32Array;
      const scores = await head.run({ features: new ort.Tensor('float32', features, [count, ref.featureSize]) });
      const probabilities = scores.probabilities.data as Float32Array;
      const classes = data.labels.length;
      const predictions = Array.from({ length: count }, (_, i) => topPredictions(probabilities.subarray(i * classes, (i + 1) * classes), data.labels, 5));
      port.postMessage({ kind: 'done', id, predictions } satisfies BareWorkerReply);
    })().catch((error: unknown) => port.postMessage({ kind: 'failed', id: request.id, message: String(error) } satisfies BareWorkerReply));
  });
  port.postMessage({ kind: 'ready' } satisfies BareWorkerReply);
} catch (error) {
  port.postMessage({ kind: 'failed', message: String(error) } satisfies BareWorkerReply);
}
