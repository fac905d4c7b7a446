import type { BackboneSettings } from '../domain/training/hyperparameters.ts';
import type { BackboneRef } from '../domain/training/training-job.ts';
import { openBackbone, type OpenBackboneOptions } from '../runtime/onnx/backbone-session.ts';
import { openBackboneInWorker } from '../runtime/onnx/worker-backbone.ts';
import { buildSampleBackbone } from '../runtime/onnx/sample-backbone.ts';
import type { FeatureExtractor } from '../runtime/images/feature-extractor.ts';
import type { ControlDeps } from './deps.ts';

/** Where a training job's frozen backbone comes from. */
export type BackboneSpec =
  | { sample: true }
  /** Any ONNX image backbone producing a feature vector (e.g. ResNet50 without its classifier). */
  | ({ path: string } & BackboneSettings);

/**
 * Probes the backbone, so a model that cannot serve as one is refused when the
 * job is created rather than halfway through it, then copies it into the
 * artifact store (content-addressed: a backbone used by many jobs is stored once).
 */
export async function importBackbone(deps: ControlDeps, spec: BackboneSpec): Promise<BackboneRef> {
  if ('sample' in spec) {
    const sample = buildSampleBackbone();
    const digest = await deps.artifacts.put(sample.onnx);
    const { inputName, outputName, featureSize, preprocessing } = sample;
    return probe(openBackbone(sample.onnx, { digest, inputName, outputName, featureSize, preprocessing }));
  }
  const { path, ...overrides } = spec;
  const probed = await probe(openBackbone(path, { digest: 'unstored', ...overrides }));
  return { ...probed, digest: await deps.artifacts.putFile(path) };
}

async function probe(opening: Promise<FeatureExtractor>): Promise<BackboneRef> {
  const extractor = await opening;
  try {
    return extractor.backbone;
  } finally {
    await extractor.close();
  }
}

/** How to open a stored backbone: the names and preprocessing recorded on it. */
export function storedBackboneOptions(ref: BackboneSettings & { digest: string }, intraOpNumThreads?: number): OpenBackboneOptions {
  return {
    digest: ref.digest,
    inputName: ref.inputName,
    outputName: ref.outputName,
    featureSize: ref.featureSize,
    preprocessing: ref.preprocessing,
    ...(intraOpNumThreads !== undefined ? { intraOpNumThreads } : {}),
  };
}

/**
 * Opens a stored backbone in a worker thread, for long work like embedding a
 * dataset. Reading it through the artifact store checks its hash, so a damaged
 * file fails loudly instead of silently changing every prediction.
 */
export async function openStoredBackbone(deps: ControlDeps, ref: BackboneSettings & { digest: string }, intraOpNumThreads?: number): Promise<FeatureExtractor> {
  return openBackboneInWorker(await deps.artifacts.get(ref.digest), storedBackboneOptions(ref, intraOpNumThreads));
}
