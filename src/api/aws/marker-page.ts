import { DomainError } from '../../core/errors.ts';

/**
 * One page of a List* answer that pages with an opaque marker (IAM's Marker,
 * Lambda's Marker/NextMarker). The marker is the key of the last item
 * returned, so items added or removed between calls neither repeat nor go
 * missing before it.
 */
export function markerPage<T>(
  unordered: readonly T[],
  keyOf: (item: T) => string,
  request: { marker: string | undefined; maxItems: number },
  order: 'by-key' | 'as-given' = 'by-key',
): { page: T[]; nextMarker?: string } {
  // Paging walks the key order, whatever order the items came in; a list in its own order (newest first) resumes after the marker's item.
  const items = order === 'by-key' ? [...unordered].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0)) : unordered;
  let start = 0;
  if (request.marker !== undefined) {
    const after = decodeMarker(request.marker);
    start = order === 'by-key' ? items.findIndex((item) => keyOf(item) > after) : items.findIndex((item) => keyOf(item) === after) + 1;
    if (start === -1) start = items.length;
  }
  const page = items.slice(start, start + request.maxItems);
  const truncated = start + request.maxItems < items.length;
  return { page, ...(truncated ? { nextMarker: Buffer.from(keyOf(page[page.length - 1]!)).toString('base64') } : {}) };
}

function decodeMarker(marker: string): string {
  const decoded = Buffer.from(marker, 'base64').toString('utf8');
  if (decoded === '' || Buffer.from(decoded).toString('base64') !== marker) {
    throw new DomainError('ValidationError', 'Invalid Marker: pass the Marker a previous call of the same operation returned', { field: 'Marker' });
  }
  return decoded;
}
