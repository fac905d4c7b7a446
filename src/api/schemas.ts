import { z } from 'zod';
import { DomainError } from '../core/errors.ts';

/**
 * Request shapes of the Kennel REST API. The spec file (`kennel apply`) reuses
 * them, so a field means the same thing in both places.
 */
const name = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/, 'use letters, digits and hyphens, starting and ending with a letter or digit');
const rgb = z.tuple([z.number(), z.number(), z.number()]);

export const preprocessingSchema = z
  .object({
    resizeSize: z.number().int().positive().max(4096),
    cropSize: z.number().int().positive().max(4096),
    mean: rgb,
    std: rgb.refine((values) => values.every((value) => value > 0), 'std values must be positive'),
    layout: z.enum(['NCHW', 'NHWC']),
  })
  .partial()
  .strict();

export const backboneSchema = z.union([
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

export const registerDatasetSchema = z.object({ name, path: z.string().min(1) }).strict();

export const createTrainingJobSchema = z
  .object({
    name,
    datasetName: name,
    backbone: backboneSchema,
    hyperParameters: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  })
  .strict();

export const createModelSchema = z.object({ name, trainingJobName: name }).strict();

export const createEndpointConfigSchema = z
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
      .min(1),
  })
  .strict();

export const createEndpointSchema = z.object({ name, endpointConfigName: name }).strict();

/** Validates `value`, turning the first problems into one ValidationError that names each path. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, source = 'request body'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new DomainError('ValidationError', `Invalid ${source}: ${describeIssues(result.error)}`, {
    issues: result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
  });
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${formatPath(issue.path) || '(top level)'}: ${issue.message}`)
    .join('; ');
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index > 0 ? '.' : ''}${String(part)}`)).join('');
}
