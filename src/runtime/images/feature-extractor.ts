import type { BackboneRef } from '../../domain/training/training-job.ts';

/**
 * A frozen backbone: preprocessed image tensors in, one feature vector per image out.
 * The ONNX Runtime implementation lives in src/runtime/onnx/backbone-session.ts;
 * tests substitute counting fakes.
 */
export interface FeatureExtractor {
  readonly backbone: BackboneRef;
  /**
   * `input` holds `batchSize` images laid out as backbone.preprocessing.layout
   * (float32, normalised). Returns batchSize × backbone.featureSize floats.
   */
  extract(input: Float32Array, batchSize: number): Promise<Float32Array>;
  close(): Promise<void>;
}
