import { DomainError } from './errors.ts';

/** SageMaker resource names: 1–63 characters, alphanumerics and inner hyphens. */
const RESOURCE_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export function assertResourceName(kind: string, name: unknown): string {
  if (typeof name !== 'string' || name.length > 63 || !RESOURCE_NAME.test(name)) {
    throw new DomainError(
      'ValidationError',
      `${kind} name ${JSON.stringify(name)} is not valid: use 1-63 letters, digits and hyphens, starting and ending with a letter or digit`,
      { field: 'name' },
    );
  }
  return name;
}
