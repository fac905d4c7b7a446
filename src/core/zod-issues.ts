import type { z } from 'zod';

/** The first problems zod found, each with the path it found it at: `backbone.preprocessing.std[1]: ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${formatIssuePath(issue.path) || '(top level)'}: ${issue.message}`)
    .join('; ');
}

export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index > 0 ? '.' : ''}${String(part)}`)).join('');
}
