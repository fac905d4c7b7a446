import * as ort from 'onnxruntime-node';
import { DomainError } from '../../core/errors.ts';
import { asProbabilities, topPredictions, type Prediction, type ScoreKind } from '../../domain/serving/predictions.ts';
import type { FeatureExtractor } from '../images/feature-extractor.ts';
import { preprocessImage } from '../images/preprocess.ts';

/** One loaded copy of a model: a whole classifier, or a backbone and a head, ready to classify batches of images. */
export interface Replica {
  readonly classCount: number;
  /** Decodes and preprocesses one image into the backbone's input (on libuv's pool, not this thread). */
  preprocess(image: Uint8Array): Promise<Float32Array>;
  /** Runs preprocessed inputs through the model as one batch; the predictions of each, in order, or why that one has none. */
  classifyBatch(inputs: readonly Float32Array[], topKs: readonly number[]): Promise<(Prediction[] | DomainError)[]>;
  close(): Promise<void>;
}

export interface LoadReplicaOptions {
  /** The backbone session; the replica owns it and closes it. */
  extractor: FeatureExtractor;
  /** ONNX bytes of the head: features [N,F] → scores [N,C]; absent, the backbone's output is the scores. */
  headModel?: Uint8Array;
  labels: readonly string[];
  /** What the scores are; absent, told from the values. */
  scores?: ScoreKind;
}

export async function loadReplica(options: LoadReplicaOptions): Promise<Replica> {
  const { extractor, labels } = options;
  // The head is two small matrix products: one thread avoids pool wake-up costs.
  const head = options.headModel ? await ort.InferenceSession.create(options.headModel, { intraOpNumThreads: 1, interOpNumThreads: 1 }) : undefined;
  const { featureSize, preprocessing } = extractor.backbone;
  const classes = labels.length;
  return {
    classCount: classes,
    preprocess: (image) => preprocessImage(image, preprocessing),
    async classifyBatch(inputs, topKs) {
      const batch = inputs.length === 1 ? inputs[0] : concatenate(inputs);
      const features = await extractor.extract(batch, inputs.length);
      let scores = features;
      if (head) {
        // A Kennel head is features → probabilities; any other head's one input and output are found by position.
        const output = await head.run({ [head.inputNames[0]]: new ort.Tensor('float32', features, [inputs.length, featureSize]) });
        scores = output[head.outputNames[0]].data as Float32Array;
      }
      return topKs.map((topK, i) => {
        const row = scores.subarray(i * classes, (i + 1) * classes);
        // A model that answers NaN or an infinity for an image is broken on it, and no ranking of its scores means anything.
        if (!row.every(Number.isFinite)) return new DomainError('ModelError', 'The model answered scores that are not finite numbers (NaN or infinite) for this image', { originalStatusCode: 500 });
        return topPredictions(asProbabilities(row, options.scores), labels, topK);
      });
    },
    async close() {
      await Promise.all([head?.release(), extractor.close()]);
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
