import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { DomainError } from '../core/errors.ts';
import { parseHyperParameters } from '../domain/training/hyperparameters.ts';
import { registerDatasetSchema, resourceNameSchema as name } from '../api/schemas.ts';

const rgb = z.tuple([z.number(), z.number(), z.number()]);

const preprocessingSchema = z
  .object({
    resizeSize: z.number().int().positive().max(4096),
    cropSize: z.number().int().positive().max(4096),
    mean: rgb,
    std: rgb.refine((values) => values.every((value) => value > 0), 'std values must be positive'),
    layout: z.enum(['NCHW', 'NHWC']),
  })
  .partial()
  .strict();

const backboneSchema = z.union([
  z.object({ sample: z.literal(true) }).strict(),
  z
    .object({
      path: z.string().min(1),
      inputName: z.string().min(1).optional(),
      outputName: z.string().min(1).optional(),
      featureSize: z.number().int().positive().optional(),
      preprocessing: preprocessingSchema.optional(),
    })
    .strict(),
]);

/**
 * A declarative workload: the dataset, the training job, the model and the
 * endpoint, in that order. `kennel apply` turns each section into the SageMaker
 * call that creates it; names that the order implies (which dataset the job
 * trains on, which job the model comes from, ...) may be left out.
 */
export const workloadSpecSchema = z
  .object({
    apiVersion: z.literal('kennel/v1'),
    kind: z.literal('Workload'),
    dataset: registerDatasetSchema,
    trainingJob: z
      .object({
        name,
        datasetName: name.optional(),
        backbone: backboneSchema,
        hyperParameters: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
        instanceType: z.string().min(1).optional(),
        maxRuntimeInSeconds: z.number().int().positive().optional(),
      })
      .strict(),
    model: z.object({ name, trainingJobName: name.optional() }).strict(),
    endpointConfig: z
      .object({
        name,
        productionVariants: z
          .array(
            z
              .object({
                variantName: name.optional(),
                modelName: name,
                initialInstanceCount: z.number().int().optional(),
                instanceType: z.string().min(1).optional(),
              })
              .strict(),
          )
          .min(1)
          .optional(),
      })
      .strict()
      .optional(),
    endpoint: z.object({ name, endpointConfigName: name.optional() }).strict(),
  })
  .strict();

export type WorkloadSpec = z.infer<typeof workloadSpecSchema>;

/**
 * Reads and validates a spec file. Errors name the file, the line, the path inside
 * the document and what is wrong. Paths in the spec are relative to the file;
 * `$KENNEL_HOME` expands to the state folder.
 */
export async function loadWorkloadSpec(file: string, kennelHome: string): Promise<WorkloadSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new DomainError('ValidationError', `${file}: cannot read the spec file`);
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    const error = document.errors[0];
    const { line } = lineCounter.linePos(error.pos[0]);
    throw new DomainError('ValidationError', `${file}:${line}: not valid YAML: ${error.message.split('\n')[0]}`);
  }
  const at = (path: string[], message: string) => {
    const node = document.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const where = node?.range ? `:${lineCounter.linePos(node.range[0]).line}` : '';
    return `${file}${where}: ${path.join('.') || '(document)'}: ${message}`;
  };
  const result = workloadSpecSchema.safeParse(document.toJS());
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => at(issue.path.map(String), issue.message));
    throw new DomainError('ValidationError', problems.join('\n'));
  }
  const spec = result.data;
  // Checked here too, so a bad value stops the spec before anything is created.
  try {
    parseHyperParameters(spec.trainingJob.hyperParameters ?? {});
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const field = typeof error.details.field === 'string' ? [error.details.field] : [];
    throw new DomainError('ValidationError', at(['trainingJob', 'hyperParameters', ...field], error.message));
  }
  const base = dirname(resolve(file));
  const resolvePath = (path: string) => {
    const expanded = path.replace(/^\$(KENNEL_HOME|\{KENNEL_HOME\})/, kennelHome);
    return isAbsolute(expanded) ? expanded : resolve(base, expanded);
  };
  spec.dataset.path = resolvePath(spec.dataset.path);
  if ('path' in spec.trainingJob.backbone) spec.trainingJob.backbone.path = resolvePath(spec.trainingJob.backbone.path);
  return spec;
}
