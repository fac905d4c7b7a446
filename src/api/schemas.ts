import { z } from 'zod';
import { DomainError } from '../core/errors.ts';
import { describeIssues, formatIssuePath } from '../core/zod-issues.ts';

/** Request shapes of the Kennel REST API. The spec file (`kennel apply`) reuses them, so a field means the same thing in both places. */
export const resourceNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/, 'use letters, digits and hyphens, starting and ending with a letter or digit');
export const registerDatasetSchema = z.object({ name: resourceNameSchema, path: z.string().min(1) }).strict();

/** Validates `value`, turning the first problems into one ValidationError that names each path. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, source = 'request body'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new DomainError('ValidationError', `Invalid ${source}: ${describeIssues(result.error)}`, {
    issues: result.error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message })),
  });
}

/** `?from=<offset>&limit=<n>` of GET /kennel/training-jobs/{name}/logs. */
export const logQuerySchema = z
  .object({
    from: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
  })
  .strict();

/** `GET /kennel/iam/audit-events`: filters of the audit trail; times are epoch milliseconds. */
export const auditQuerySchema = z
  .object({
    principal: z.string().min(1).optional(),
    action: z.string().min(1).optional(),
    decision: z.enum(['Allow', 'ExplicitDeny', 'ImplicitDeny']).optional(),
    from: z.coerce.number().int().min(0).optional(),
    to: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(100_000).optional(),
  })
  .strict();

/** `GET /kennel/iam/suggested-policy` and `/kennel/iam/unused-permissions`: whose use, since when (epoch milliseconds). */
export const usageQuerySchema = z
  .object({
    principal: z.string().startsWith('arn:', 'principal must be an ARN, e.g. arn:aws:iam::000000000000:role/dog-breeds-client'),
    since: z.coerce.number().int().min(0).optional(),
  })
  .strict();
