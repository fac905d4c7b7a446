import { DomainError } from '../core/errors.ts';
import type { BackboneRef } from '../domain/training/training-job.ts';
import { packModelArchive, unpackModelArchive } from '../runtime/models/model-archive.ts';
import type { LabelsDocument } from './labels.ts';

/**
 * Kennel's model.tar.gz: what a training job of the image classifier leaves at
 * its output path and what CreateModel reads back.
 *
 *   kennel-model.json  format, version, the backbone (by SHA-256 digest) and its preprocessing
 *   head.onnx          the trained head: features → class probabilities
 *   labels.json        class folders and labels in index order
 *   metrics.json       per-epoch and final metrics
 *
 * The backbone is named by digest rather than packed: a ResNet50 is ~100 MB and
 * every trial of a tuning job shares it. It lives in the artifact store of the
 * Kennel that trained the model.
 */
export const MODEL_MANIFEST = 'kennel-model.json';
const FORMAT = 'kennel.image-classifier';
const VERSION = 1;

interface ModelManifest {
  format: typeof FORMAT;
  version: number;
  trainingJobName?: string;
  backbone: BackboneRef;
  classCount: number;
}

export interface ModelPackage {
  backbone: BackboneRef;
  headModel: Uint8Array;
  labels: LabelsDocument;
  metrics?: unknown;
  trainingJobName?: string;
}

export async function buildModelPackage(model: ModelPackage, mtimeMs: number): Promise<Uint8Array> {
  const manifest: ModelManifest = {
    format: FORMAT,
    version: VERSION,
    ...(model.trainingJobName ? { trainingJobName: model.trainingJobName } : {}),
    backbone: model.backbone,
    classCount: model.labels.classes.length,
  };
  const files: Record<string, Uint8Array> = {
    [MODEL_MANIFEST]: json(manifest),
    'head.onnx': model.headModel,
    'labels.json': json(model.labels),
  };
  if (model.metrics !== undefined) files['metrics.json'] = json(model.metrics);
  return packModelArchive(files, { mtimeMs });
}

/** Reads a model.tar.gz; `where` names it in errors (its URL). */
export async function readModelPackage(bytes: Uint8Array, where: string): Promise<ModelPackage> {
  const files = await unpackModelArchive(bytes);
  const manifestBytes = files.get(MODEL_MANIFEST);
  if (!manifestBytes) {
    throw invalid(where, `it has no ${MODEL_MANIFEST}: Kennel serves models made by its image classifier (${[...files.keys()].slice(0, 5).join(', ') || 'the archive is empty'})`);
  }
  const manifest = parseJson(manifestBytes, where, MODEL_MANIFEST) as Partial<ModelManifest>;
  if (manifest.format !== FORMAT || manifest.version !== VERSION) {
    throw invalid(where, `${MODEL_MANIFEST} says format ${JSON.stringify(manifest.format)} version ${JSON.stringify(manifest.version)}; this Kennel reads ${FORMAT} version ${VERSION}`);
  }
  const backbone = manifest.backbone;
  if (!backbone || typeof backbone.digest !== 'string' || typeof backbone.featureSize !== 'number' || !backbone.preprocessing) {
    throw invalid(where, `${MODEL_MANIFEST} does not describe the backbone`);
  }
  const headModel = files.get('head.onnx');
  const labelsBytes = files.get('labels.json');
  if (!headModel || !labelsBytes) throw invalid(where, 'it lacks head.onnx or labels.json');
  const labels = parseJson(labelsBytes, where, 'labels.json') as LabelsDocument;
  if (!Array.isArray(labels.classes) || labels.classes.length === 0 || labels.classes.some((entry) => typeof entry?.label !== 'string')) {
    throw invalid(where, 'labels.json does not list the classes');
  }
  const metrics = files.get('metrics.json');
  return {
    backbone,
    headModel,
    labels,
    ...(metrics ? { metrics: parseJson(metrics, where, 'metrics.json') } : {}),
    ...(typeof manifest.trainingJobName === 'string' ? { trainingJobName: manifest.trainingJobName } : {}),
  };
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2));
}

function parseJson(bytes: Uint8Array, where: string, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw invalid(where, `${file} is not valid JSON`);
  }
}

function invalid(where: string, why: string): DomainError {
  return new DomainError('ValidationError', `Model data ${where} is not a Kennel model: ${why}`, { field: 'ModelDataUrl' });
}
