import * as ort from 'onnxruntime-node';
import { topPredictions, type Prediction } from '../../domain/serving/predictions.ts';
import type { FeatureExtractor } from '../images/feature-extractor.ts';
import { preprocessImage } from '../images/preprocess.ts';

/** One loaded copy of a model: frozen backbone + trained head, ready to classify batches of images. */
export interface Replica {
  readonly classCount: number;
  /** Decodes and preprocesses one image into the backbone's input (on libuv's pool, not this thread). */
  preprocess(image: Uint8Array): Promise<Float32Array>;
  /** Runs preprocessed inputs through the model as one batch; the predictions of each, in order. */
  classifyBatch(inputs: readonly Float32Array[], topKs: readonly number[]): Promise<Prediction[][]>;
  close(): Promise<void>;
}

export interface LoadReplicaOptions {
  /** The backbone session; the replica owns it and closes it. */
  extractor: FeatureExtractor;
  /** ONNX bytes of the head: `features` [N,F] → `probabilities` [N,C]. */
  headModel: Uint8Array;
  labels: readonly string[];
}

export async function loadReplica(options: LoadReplicaOptions): Promise<Replica> {
  const { extractor, labels } = options;
  // The head is two small matrix products: one thread avoids pool wake-up costs.
  const head = await ort.InferenceSession.create(options.headModel, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const { featureSize, preprocessing } = extractor.backbone;
  return {
    classCount: labels.length,
    preprocess: (image) => preprocessImage(image, preprocessing),
    async classifyBatch(inputs, topKs) {
      const batch = inputs.length === 1 ? inputs[0] : concatenate(inputs);
      const features = await extractor.extract(batch, inputs.length);
      const output = await head.run({ features: new ort.Tensor('float32', features, [inputs.length, featureSize]) });
      const probabilities = output.probabilities.data as Float32Array;
      const classes = labels.length;
      return topKs.map((topK, i) => topPredictions(probabilities.subarray(i * classes, (i + 1) * classes), labels, topK));
    },
    async close() {
      await Promise.all([head.release(), extractor.close()]);
    },
  };
}

function concatenate(inputs: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(inputs.reduce((sum, input) => sum + input.length, 0));
  let offset = 0;
  for (const input of inputs) {
    out.set(input, offset);
    offset += input.length;
  }
  return out;
}
