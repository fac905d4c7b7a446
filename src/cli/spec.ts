import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { DomainError } from '../core/errors.ts';
import { parseDebuggerConfiguration } from '../domain/debugger/configuration.ts';
import { parseHyperParameters } from '../domain/training/hyperparameters.ts';
import { debuggerRequestMembers } from './training-request.ts';
import { registerDatasetSchema, resourceNameSchema as name } from '../api/schemas.ts';
import { debuggerFromWire } from '../api/sagemaker/debugger-wire.ts';

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

const hyperParametersSchema = z.record(z.string(), z.union([z.string(), z.number()]));

/** Built-in debugger and profiler rules, and how often to record (see `kennel training-jobs create --help`). */
const debuggerSchema = z
  .object({
    rules: z
      .array(
        z
          .object({
            rule: z.string().min(1),
            parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
            stopTraining: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    saveInterval: z.number().int().positive().optional(),
    profilingIntervalMs: z.number().int().positive().optional(),
  })
  .strict();

const imageClassifierJobSchema = z
  .object({
    name,
    datasetName: name.optional(),
    backbone: backboneSchema,
    hyperParameters: hyperParametersSchema.optional(),
    instanceType: z.string().min(1).optional(),
    maxRuntimeInSeconds: z.number().int().positive().optional(),
    debugger: debuggerSchema.optional(),
  })
  .strict();

/** Script mode: the entry point and its folder, run on a framework image. */
const scriptJobSchema = z
  .object({
    name,
    datasetName: name.optional(),
    script: z
      .object({
        image: z.string().min(1),
        entryPoint: z.string().min(1),
        sourceDir: z.string().min(1),
      })
      .strict(),
    hyperParameters: hyperParametersSchema.optional(),
    metricDefinitions: z.array(z.object({ name: z.string().min(1), regex: z.string().min(1) }).strict()).optional(),
    instanceType: z.string().min(1).optional(),
    maxRuntimeInSeconds: z.number().int().positive().optional(),
    debugger: debuggerSchema.optional(),
  })
  .strict();

type TrainingJobSection = z.infer<typeof imageClassifierJobSchema> | z.infer<typeof scriptJobSchema>;

/** One of the two kinds, chosen by whether a `script` is given, so errors speak of that kind's fields only. */
const trainingJobSchema = z.unknown().transform((value, context): TrainingJobSection => {
  const script = typeof value === 'object' && value !== null && 'script' in value;
  const result = (script ? scriptJobSchema : imageClassifierJobSchema).safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) context.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

const numericRangeSchema = z
  .object({
    min: z.number(),
    max: z.number(),
    integer: z.boolean().optional(),
    scaling: z.enum(['Auto', 'Linear', 'Logarithmic', 'ReverseLogarithmic']).optional(),
  })
  .strict();
const categoricalRangeSchema = z.object({ values: z.array(z.union([z.string(), z.number()])).min(1) }).strict();

/** A tuning job over the training job's hyperparameters; the training job then runs with the best trial's values. */
const tuningJobSchema = z
  .object({
    name,
    strategy: z.enum(['Bayesian', 'Random', 'Grid', 'Hyperband']).optional(),
    objective: z.object({ metric: z.string().min(1), type: z.enum(['Minimize', 'Maximize']).optional() }).strict(),
    ranges: z.record(z.string(), z.union([numericRangeSchema, categoricalRangeSchema])).refine((ranges) => Object.keys(ranges).length > 0, 'give at least one range'),
    maxJobs: z.number().int().positive().optional(),
    maxParallel: z.number().int().positive().optional(),
    earlyStopping: z.enum(['Off', 'Auto']).optional(),
    randomSeed: z.number().int().min(0).optional(),
  })
  .strict();

const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** A Lambda function in front of the endpoint, with the execution role it runs as (created with exactly the statements given). */
const functionSchema = z
  .object({
    name,
    runtime: z.string().min(1),
    handler: z.string().min(1),
    /** A folder or a .zip, relative to the spec file. */
    code: z.string().min(1),
    memorySize: z.number().int().optional(),
    timeout: z.number().int().optional(),
    environment: z.record(z.string(), z.string()).optional(),
    reservedConcurrency: z.number().int().min(0).optional(),
    role: z
      .object({
        name,
        allow: z.array(z.object({ action: oneOrMany, resource: oneOrMany }).strict()).min(1),
      })
      .strict(),
  })
  .strict();

/**
 * A declarative workload: the dataset, optionally a tuning job, the training
 * job, the model and the endpoint, in that order. `kennel apply` turns each
 * section into the SageMaker call that creates it; names that the order implies
 * (which dataset the job trains on, which job the model comes from, ...) may be
 * left out. A script-mode training job has no model or endpoint: Kennel serves
 * only its image classifier's models. Functions come last: they call the endpoint.
 */
export const workloadSpecSchema = z
  .object({
    apiVersion: z.literal('kennel/v1'),
    kind: z.literal('Workload'),
    dataset: registerDatasetSchema,
    tuningJob: tuningJobSchema.optional(),
    trainingJob: trainingJobSchema,
    model: z.object({ name, trainingJobName: name.optional() }).strict().optional(),
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
                initialVariantWeight: z.number().min(0).optional(),
                /** Kennel's dynamic batching: KennelBatching on the wire. */
                batching: z.object({ maxBatchSize: z.number().int(), maxDelayMs: z.number().int() }).strict().optional(),
              })
              .strict(),
          )
          .min(1)
          .optional(),
      })
      .strict()
      .optional(),
    endpoint: z.object({ name, endpointConfigName: name.optional() }).strict().optional(),
    functions: z.array(functionSchema).optional(),
  })
  .strict()
  .superRefine((spec, context) => {
    const script = 'script' in spec.trainingJob;
    for (const section of ['model', 'endpoint'] as const) {
      if (script && spec[section]) context.addIssue({ code: 'custom', path: [section], message: `a script-mode training job's model cannot be served by Kennel: remove ${section}` });
      if (!script && !spec[section]) context.addIssue({ code: 'custom', path: [section], message: 'Required' });
    }
  });

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
    // A script's hyperparameters are its own; the image classifier's are known.
    if ('backbone' in spec.trainingJob) parseHyperParameters(spec.trainingJob.hyperParameters ?? {});
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const field = typeof error.details.field === 'string' ? [error.details.field] : [];
    throw new DomainError('ValidationError', at(['trainingJob', 'hyperParameters', ...field], error.message));
  }
  const rules = spec.trainingJob.debugger?.rules ?? [];
  rules.forEach((rule, index) => {
    try {
      // Checked as the server will check the request it becomes.
      parseDebuggerConfiguration(debuggerFromWire(debuggerRequestMembers({ rules: [rule] })) ?? {}, spec.trainingJob.name);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      throw new DomainError('ValidationError', at(['trainingJob', 'debugger', 'rules', String(index)], error.message));
    }
  });
  const base = dirname(resolve(file));
  const resolvePath = (path: string) => {
    const expanded = path.replace(/^\$(KENNEL_HOME|\{KENNEL_HOME\})/, kennelHome);
    return isAbsolute(expanded) ? expanded : resolve(base, expanded);
  };
  spec.dataset.path = resolvePath(spec.dataset.path);
  if ('backbone' in spec.trainingJob && 'path' in spec.trainingJob.backbone) spec.trainingJob.backbone.path = resolvePath(spec.trainingJob.backbone.path);
  if ('script' in spec.trainingJob) spec.trainingJob.script.sourceDir = resolvePath(spec.trainingJob.script.sourceDir);
  for (const fn of spec.functions ?? []) fn.code = resolvePath(fn.code);
  return spec;
}
