import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { DomainError } from '../core/errors.ts';
import { parseHyperParameters } from '../domain/training/hyperparameters.ts';
import {
  backboneSchema,
  createEndpointConfigSchema,
  createEndpointSchema,
  createModelSchema,
  createTrainingJobSchema,
  registerDatasetSchema,
} from '../api/schemas.ts';

/**
 * A declarative workload: the dataset, the training job, the model and the
 * endpoint, in that order. Every section reuses the request shape of the API call
 * it turns into; names that the order implies (which dataset the job trains on,
 * which job the model comes from, ...) may be left out.
 */
export const workloadSpecSchema = z
  .object({
    apiVersion: z.literal('kennel/v1'),
    kind: z.literal('Workload'),
    dataset: registerDatasetSchema,
    trainingJob: createTrainingJobSchema.extend({ datasetName: z.string().optional(), backbone: backboneSchema }),
    model: createModelSchema.extend({ trainingJobName: z.string().optional() }),
    endpointConfig: createEndpointConfigSchema
      .extend({ productionVariants: createEndpointConfigSchema.shape.productionVariants.optional() })
      .optional(),
    endpoint: createEndpointSchema.extend({ endpointConfigName: z.string().optional() }),
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
