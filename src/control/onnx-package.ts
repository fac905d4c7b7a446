import { z } from 'zod';
import { DomainError } from '../core/errors.ts';
import { describeIssues } from '../core/zod-issues.ts';
import type { ScoreKind } from '../domain/serving/predictions.ts';
import type { Preprocessing } from '../domain/training/training-job.ts';
import { unpackModelArchive } from '../runtime/models/model-archive.ts';
import { readMetadataProps } from '../runtime/onnx/proto.ts';
import { labelsDocument, type LabelsDocument } from './labels.ts';
import { MODEL_MANIFEST, parseArchiveJson } from './model-package.ts';

/**
 * A model.tar.gz made outside Kennel for its ONNX serving image (docs/serving.md):
 *
 *   model.onnx              the whole classifier: image tensor → class scores [N, C]
 *   or backbone.onnx        image tensor → features [N, F]
 *      and head.onnx        features → class scores [N, C]
 *   labels.txt              one class name per line, in index order
 *   or labels.json          a JSON array of names (or Kennel's {"classes": [...]})
 *   or classes.json         a JSON array of class folder names ("001.Affenpinscher"), as hpo.py saves them
 *   kennel-model.json       optional: {"format": "kennel.onnx-classifier", "version": 1, inputName,
 *                           outputName, scores ("logits" | "probabilities"), preprocessing}
 *
 * What the manifest leaves out may come from the model's metadata_props
 * (`kennel.preprocessing` as JSON, `kennel.scores`, `kennel.labels` as a JSON
 * array), and the rest is read from the model itself (see openBackbone).
 */
export const ONNX_MANIFEST_FORMAT = 'kennel.onnx-classifier';
const FILES = new Set(['model.onnx', 'backbone.onnx', 'head.onnx', 'labels.txt', 'labels.json', 'classes.json', MODEL_MANIFEST]);

const preprocessingSchema = z
  .object({
    resizeSize: z.number().int().positive().max(8192),
    cropSize: z.number().int().positive().max(8192),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
    layout: z.enum(['NCHW', 'NHWC']),
  })
  .partial()
  .strict();

const manifestSchema = z
  .object({
    format: z.literal(ONNX_MANIFEST_FORMAT),
    version: z.literal(1),
    inputName: z.string().min(1).optional(),
    outputName: z.string().min(1).optional(),
    scores: z.enum(['logits', 'probabilities']).optional(),
    preprocessing: preprocessingSchema.optional(),
  })
  .strict();

const labelListSchema = z.array(z.string()).min(1);
const labelsDocumentSchema = z.object({ classes: z.array(z.object({ index: z.number().int().nonnegative(), folder: z.string(), label: z.string() })).min(1) });

export interface OnnxPackage {
  /** The whole classifier, or the backbone when there is a head. */
  model: Uint8Array;
  head?: Uint8Array;
  labels: LabelsDocument;
  inputName?: string;
  outputName?: string;
  scores?: ScoreKind;
  preprocessing: Partial<Preprocessing>;
}

/** Reads an ONNX model.tar.gz as hostile input; `where` (its URL) names it in errors, which say what to change. */
export async function readOnnxPackage(bytes: Uint8Array, where: string): Promise<OnnxPackage> {
  const files = await unpackModelArchive(bytes, { only: FILES, maxEntryBytes: 1024 ** 3 });
  const manifest = files.has(MODEL_MANIFEST) ? readManifest(files.get(MODEL_MANIFEST)!, where) : undefined;
  const whole = files.get('model.onnx');
  const backbone = files.get('backbone.onnx');
  const head = files.get('head.onnx');
  if (whole && (backbone || head)) throw invalid(where, 'it holds model.onnx and backbone.onnx or head.onnx: give the whole classifier as model.onnx, or a backbone.onnx with its head.onnx, not both');
  if (!whole && !(backbone && head)) {
    const found = [...files.keys()].sort().join(', ') || 'none of the files Kennel reads';
    throw invalid(where, `it holds no model.onnx (or backbone.onnx with head.onnx); found ${found}. Put the classifier at the top of the archive: tar czf model.tar.gz -C <folder> model.onnx labels.txt`);
  }
  const model = (whole ?? backbone)!;
  const metadata = metadataOf(model, where);
  const labels = readLabels(files, metadata.labels, where);
  return {
    model,
    ...(head ? { head } : {}),
    labels,
    ...(manifest?.inputName ? { inputName: manifest.inputName } : {}),
    ...(manifest?.outputName ? { outputName: manifest.outputName } : {}),
    ...((manifest?.scores ?? metadata.scores) ? { scores: manifest?.scores ?? metadata.scores } : {}),
    preprocessing: { ...metadata.preprocessing, ...manifest?.preprocessing },
  };
}

function readManifest(bytes: Uint8Array, where: string): z.infer<typeof manifestSchema> {
  const value = parseJson(bytes, where, MODEL_MANIFEST);
  const result = manifestSchema.safeParse(value);
  if (result.success) return result.data;
  throw invalid(where, `${MODEL_MANIFEST} is not a manifest of ${ONNX_MANIFEST_FORMAT} version 1: ${describeIssues(result.error)}`);
}

interface ModelMetadata {
  preprocessing: Partial<Preprocessing>;
  scores?: ScoreKind;
  labels?: string[];
}

/** The `kennel.*` metadata_props of the model, checked as the manifest is. */
function metadataOf(model: Uint8Array, where: string): ModelMetadata {
  let props: Record<string, string>;
  try {
    props = readMetadataProps(model);
  } catch {
    throw invalid(where, 'its ONNX file is not a valid ONNX model (its protobuf does not parse)');
  }
  const field = (name: string, schema: z.ZodType, text: string | undefined): unknown => {
    if (text === undefined) return undefined;
    let value: unknown = text;
    if (name !== 'kennel.scores') {
      try {
        value = JSON.parse(text);
      } catch {
        throw invalid(where, `the model's metadata ${name} is not JSON`);
      }
    }
    const result = schema.safeParse(value);
    if (!result.success) throw invalid(where, `the model's metadata ${name} is not what Kennel reads: ${describeIssues(result.error)}`);
    return result.data;
  };
  return {
    preprocessing: (field('kennel.preprocessing', preprocessingSchema, props['kennel.preprocessing']) as Partial<Preprocessing> | undefined) ?? {},
    scores: field('kennel.scores', z.enum(['logits', 'probabilities']), props['kennel.scores']) as ScoreKind | undefined,
    labels: field('kennel.labels', labelListSchema, props['kennel.labels']) as string[] | undefined,
  };
}

function readLabels(files: ReadonlyMap<string, Uint8Array>, fromMetadata: string[] | undefined, where: string): LabelsDocument {
  const text = files.get('labels.txt');
  if (text) {
    const lines = new TextDecoder().decode(text).split(/\r?\n/);
    while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
    if (lines.length === 0) throw invalid(where, 'labels.txt is empty: write one class name per line, in the order of the model outputs');
    return labelsDocument(lines.map((line) => line.trim()));
  }
  for (const name of ['labels.json', 'classes.json']) {
    const bytes = files.get(name);
    if (!bytes) continue;
    const value = parseJson(bytes, where, name);
    const list = labelListSchema.safeParse(value);
    if (list.success) return labelsDocument(list.data);
    const document = labelsDocumentSchema.safeParse(value);
    if (document.success) {
      const classes = [...document.data.classes].sort((a, b) => a.index - b.index);
      if (classes.some((entry, i) => entry.index !== i)) throw invalid(where, `${name} must give the indexes 0 to ${classes.length - 1}, once each`);
      return { classes };
    }
    throw invalid(where, `${name} must be a JSON array of class names in output order`);
  }
  if (fromMetadata) return labelsDocument(fromMetadata);
  throw invalid(where, 'it has no labels: add labels.txt (one class name per line, in the order of the model outputs), labels.json or classes.json');
}

function parseJson(bytes: Uint8Array, where: string, file: string): unknown {
  return parseArchiveJson(bytes, () => invalid(where, `${file} is not valid JSON`));
}

function invalid(where: string, why: string): DomainError {
  return new DomainError('ValidationError', `Model data ${where} cannot be served by ONNX Runtime: ${why}`, { field: 'PrimaryContainer.ModelDataUrl' });
}
