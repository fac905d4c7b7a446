import { DomainError } from '../core/errors.ts';

/** A resource tag, as SageMaker keeps them: keys unique per resource, order of first addition kept. */
export interface Tag {
  key: string;
  value: string;
}

/** SageMaker's limit on tags per resource. */
export const MAX_TAGS_PER_RESOURCE = 50;

/** `existing` with `added` merged in: a key already present takes the new value. */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const byKey = new Map(existing.map((tag) => [tag.key, tag.value]));
  for (const tag of added) {
    if (tag.key.toLowerCase().startsWith('aws:')) {
      throw new DomainError('ValidationError', `Tag key ${JSON.stringify(tag.key)} is not allowed: keys starting with aws: are reserved for AWS use`, {
        field: 'Tags',
      });
    }
    byKey.set(tag.key, tag.value);
  }
  if (byKey.size > MAX_TAGS_PER_RESOURCE) {
    throw new DomainError(
      'ValidationError',
      `A resource can have at most ${MAX_TAGS_PER_RESOURCE} tags; this would give it ${byKey.size}. Delete some tags first.`,
      { field: 'Tags' },
    );
  }
  return [...byKey].map(([key, value]) => ({ key, value }));
}

export function removeTags(existing: readonly Tag[], keys: readonly string[]): Tag[] {
  const removed = new Set(keys);
  return existing.filter((tag) => !removed.has(tag.key));
}
