import { alreadyExists, notFound, type RecordKind } from '../store/records.ts';
import type { ResourceTable } from '../store/store.ts';

/** The named record, or NotFound in the store's own words. */
export function requireRecord<T extends { name: string }>(table: ResourceTable<T>, kind: RecordKind, name: string): T {
  const record = table.get(name);
  if (!record) throw notFound(kind, name);
  return record;
}

export function deleteRecord<T extends { name: string }>(table: ResourceTable<T>, kind: RecordKind, name: string): void {
  if (!table.delete(name)) throw notFound(kind, name);
}

/**
 * Refuses a taken name before a create does its work (scanning a dataset, importing
 * a backbone, resolving references), with the error the store's create would give.
 */
export function assertNameFree<T extends { name: string }>(table: ResourceTable<T>, kind: RecordKind, name: string): void {
  if (table.get(name)) throw alreadyExists(kind, name);
}
