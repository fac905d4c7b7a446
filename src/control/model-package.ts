import { z } from 'zod';
import { DomainError } from '../core/errors.ts';
import { describeIssues } from '../core/zod-issues.ts';
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
export const KENNEL_MODEL_FORMAT = 'kennel.image-classifier';
const FORMAT = KENNEL_MODEL_FORMAT;
const VERSION = 1;

type ModelManifest = z.infer<typeof manifestSchema>;

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

const preprocessingSchema = z.object({
  resizeSize: z.number().int().positive(),
  cropSize: z.number().int().positive(),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  layout: z.enum(['NCHW', 'NHWC']),
});

const manifestSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  trainingJobName: z.string().optional(),
  backbone: z.object({
    digest: z.string().regex(/^[0-9a-f]{64}$/),
    inputName: z.string().min(1),
    outputName: z.string().min(1),
    featureSize: z.number().int().positive(),
    preprocessing: preprocessingSchema,
  }),
  classCount: z.number().int().positive(),
});

const labelsSchema = z.object({
  classes: z.array(z.object({ index: z.number().int().nonnegative(), folder: z.string(), label: z.string() })).min(1),
});

const FILES = new Set([MODEL_MANIFEST, 'head.onnx', 'labels.json', 'metrics.json']);

/**
 * Reads a model.tar.gz; `where` names it in errors (its URL). Only Kennel's four
 * files are kept: anything else in the archive (a PyTorch model.pth, say) is read
 * past, not held in memory.
 */
export async function readModelPackage(bytes: Uint8Array, where: string): Promise<ModelPackage> {
  const files = await unpackModelArchive(bytes, { only: FILES, maxEntryBytes: 256 * 1024 * 1024 });
  const manifestBytes = files.get(MODEL_MANIFEST);
  if (!manifestBytes) {
    throw invalid(where, `it has no ${MODEL_MANIFEST}: Kennel serves models made by its image classifier`);
  }
  const manifest = parsed(manifestSchema, manifestBytes, where, MODEL_MANIFEST);
  const headModel = files.get('head.onnx');
  const labelsBytes = files.get('labels.json');
  if (!headModel || !labelsBytes) throw invalid(where, 'it lacks head.onnx or labels.json');
  const labels = parsed(labelsSchema, labelsBytes, where, 'labels.json');
  if (labels.classes.length !== manifest.classCount) {
    throw invalid(where, `labels.json lists ${labels.classes.length} classes where ${MODEL_MANIFEST} says ${manifest.classCount}`);
  }
  const metrics = files.get('metrics.json');
  return {
    backbone: manifest.backbone,
    headModel,
    labels,
    ...(metrics ? { metrics: parseJson(metrics, where, 'metrics.json') } : {}),
    ...(manifest.trainingJobName !== undefined ? { trainingJobName: manifest.trainingJobName } : {}),
  };
}

function parsed<T>(schema: z.ZodType<T>, bytes: Uint8Array, where: string, file: string): T {
  const result = schema.safeParse(parseJson(bytes, where, file));
  if (result.success) return result.data;
  throw invalid(where, `${file} is not what this Kennel reads: ${describeIssues(result.error)}`);
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2));
}

function parseJson(bytes: Uint8Array, where: string, file: string): unknown {
  return parseArchiveJson(bytes, () => invalid(where, `${file} is not valid JSON`));
}

/** A JSON file of a model archive, or the refusal `notJson` makes. */
export function parseArchiveJson(bytes: Uint8Array, notJson: () => DomainError): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw notJson();
  }
}

function invalid(where: string, why: string): DomainError {
  return new DomainError('ValidationError', `Model data ${where} is not a Kennel model: ${why}`, { field: 'ModelDataUrl' });
}
