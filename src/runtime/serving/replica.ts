import * as ort from 'onnxruntime-node';
import { topPredictions, type Prediction } from '../../domain/serving/predictions.ts';
import type { FeatureExtractor } from '../images/feature-extractor.ts';
import { preprocessImage } from '../images/preprocess.ts';

/** One loaded copy of a model: frozen backbone + trained head, ready to classify images. */
export interface Replica {
  readonly modelName: string;
  readonly variantName: string;
  readonly classCount: number;
  classify(image: Uint8Array, topK: number): Promise<Prediction[]>;
  close(): Promise<void>;
}

export interface LoadReplicaOptions {
  modelName: string;
  variantName: string;
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
  const featureSize = extractor.backbone.featureSize;
  return {
    modelName: options.modelName,
    variantName: options.variantName,
    classCount: labels.length,
    async classify(image, topK) {
      const input = await preprocessImage(image, extractor.backbone.preprocessing);
      const features = await extractor.extract(input, 1);
      const output = await head.run({ features: new ort.Tensor('float32', features, [1, featureSize]) });
      const probabilities = output.probabilities.data as Float32Array;
      return topPredictions(probabilities, labels, topK);
    },
    async close() {
      await Promise.all([head.release(), extractor.close()]);
    },
  };
}
