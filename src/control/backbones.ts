import type { BackboneRef, Preprocessing } from '../domain/training/training-job.ts';
import { openBackbone } from '../runtime/onnx/backbone-session.ts';
import { buildSampleBackbone } from '../runtime/onnx/sample-backbone.ts';
import type { FeatureExtractor } from '../runtime/images/feature-extractor.ts';
import type { ControlDeps } from './deps.ts';

/** What a spec may say about a backbone; anything left out is read from the model or defaulted. */
export interface BackboneOverrides {
  inputName?: string;
  outputName?: string;
  featureSize?: number;
  preprocessing?: Partial<Preprocessing>;
}

/** Where a training job's frozen backbone comes from. */
export type BackboneSpec =
  | { sample: true }
  /** Any ONNX image backbone producing a feature vector (e.g. ResNet50 without its classifier). */
  | ({ path: string } & BackboneOverrides);

/**
 * Copies the backbone into the artifact store (content-addressed, so a backbone
 * used by many jobs is stored once) and probes it, so a model that cannot serve
 * as a backbone is refused when the job is created, not halfway through it.
 */
export async function importBackbone(deps: ControlDeps, spec: BackboneSpec): Promise<BackboneRef> {
  if ('sample' in spec) {
    const sample = buildSampleBackbone();
    const digest = await deps.artifacts.put(sample.onnx);
    return probe(deps, digest, {
      inputName: sample.inputName,
      outputName: sample.outputName,
      featureSize: sample.featureSize,
      preprocessing: sample.preprocessing,
    });
  }
  const digest = await deps.artifacts.putFile(spec.path);
  return probe(deps, digest, spec);
}

async function probe(
  deps: ControlDeps,
  digest: string,
  options: BackboneOverrides,
): Promise<BackboneRef> {
  const extractor = await openStoredBackbone(deps, { digest, ...options });
  try {
    return extractor.backbone;
  } finally {
    await extractor.close();
  }
}

/** Opens a stored backbone for inference, with the names and preprocessing recorded on it. */
export async function openStoredBackbone(
  deps: ControlDeps,
  ref: BackboneOverrides & { digest: string },
  intraOpNumThreads?: number,
): Promise<FeatureExtractor> {
  return openBackbone(deps.artifacts.path(ref.digest), {
    digest: ref.digest,
    inputName: ref.inputName,
    outputName: ref.outputName,
    featureSize: ref.featureSize,
    preprocessing: ref.preprocessing,
    intraOpNumThreads,
  });
}
