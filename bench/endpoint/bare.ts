/**
 * The bare pipeline, the limit for this machine: the same JPEG bytes decoded and preprocessed by
 * Kennel's sharp code, the backbone run by onnxruntime-node at batch 1, the trained head, top-5.
 * No HTTP, no auth, no store, no replica wrapper. Sessions are created with the options the server
 * uses (backbone-session.ts createSession, replica.ts loadReplica), so only the serving layer differs.
 */
import * as ort from 'onnxruntime-node';
import { topPredictions, type Prediction } from '../../src/domain/serving/predictions.ts';
import type { BackboneRef } from '../../src/domain/training/training-job.ts';
import { preprocessImage } from '../../src/runtime/images/preprocess.ts';

export interface StageTimes {
  preprocessMs: number[];
  backboneMs: number[];
  headMs: number[];
}

export interface BarePipeline {
  classify(jpeg: Uint8Array, times?: StageTimes): Promise<Prediction[]>;
  close(): Promise<void>;
}

export async function openBarePipeline(options: {
  modelPath: string;
  backbone: BackboneRef;
  headModel: Uint8Array;
  labels: readonly string[];
  /** 0 = ONNX Runtime's default, as `kennel up --threads 0`. */
  threads: number;
}): Promise<BarePipeline> {
  const { backbone: ref, labels } = options;
  const backbone = await ort.InferenceSession.create(options.modelPath, {
    graphOptimizationLevel: 'all',
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
  });
  const head = await ort.InferenceSession.create(options.headModel, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const { cropSize } = ref.preprocessing;
  const dims = ref.preprocessing.layout === 'NCHW' ? [1, 3, cropSize, cropSize] : [1, cropSize, cropSize, 3];
  return {
    async classify(jpeg, times) {
      const t0 = performance.now();
      const input = await preprocessImage(jpeg, ref.preprocessing);
      const t1 = performance.now();
      const out = await backbone.run({ [ref.inputName]: new ort.Tensor('float32', input, dims) }, [ref.outputName]);
      const features = out[ref.outputName].data as Float32Array;
      const t2 = performance.now();
      const scores = await head.run({ features: new ort.Tensor('float32', features, [1, ref.featureSize]) });
      const predictions = topPredictions(scores.probabilities.data as Float32Array, labels, 5);
      const t3 = performance.now();
      times?.preprocessMs.push(t1 - t0);
      times?.backboneMs.push(t2 - t1);
      times?.headMs.push(t3 - t2);
      return predictions;
    },
    async close() {
      await Promise.all([backbone.release(), head.release()]);
    },
  };
}
