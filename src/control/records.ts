import { DomainError } from '../core/errors.ts';
import type { ResourceTable } from '../store/store.ts';

/** The named record, or NotFound in the words the API answers with. */
export function requireRecord<T extends { name: string }>(table: ResourceTable<T>, kind: string, name: string): T {
  const record = table.get(name);
  if (!record) throw new DomainError('NotFound', `${kind} ${name} does not exist`);
  return record;
}

export function deleteRecord<T extends { name: string }>(table: ResourceTable<T>, kind: string, name: string): void {
  if (!table.delete(name)) throw new DomainError('NotFound', `${kind} ${name} does not exist`);
}
