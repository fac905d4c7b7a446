import { createHash } from 'node:crypto';
import { DomainError } from '../../core/errors.ts';

/** The filters, sort and paging members SageMaker's List* operations share. */
export interface ListRequest {
  NameContains?: string;
  StatusEquals?: string;
  CreationTimeAfter?: number;
  CreationTimeBefore?: number;
  LastModifiedTimeAfter?: number;
  LastModifiedTimeBefore?: number;
  SortBy?: string;
  SortOrder?: string;
  MaxResults?: number;
  NextToken?: string;
}

/** What listing needs to know of a record. Times are epoch milliseconds. */
export interface ListedItem {
  name: string;
  createdAtMs: number;
  lastModifiedAtMs?: number;
  status?: string;
  /** The objective a tuning job's trial reported: SortBy FinalObjectiveMetricValue lists only trials that have one. */
  objective?: number;
}

/** Each operation's documented default sort. */
export interface ListDefaults {
  sortBy?: 'Name' | 'CreationTime';
  sortOrder?: 'Ascending' | 'Descending';
}

/** SageMaker's default page size. Its default order is per operation: mostly newest first, but oldest first for ListTrainingJobs, and by name for the tuning lists. */
export const DEFAULT_MAX_RESULTS = 10;

export interface ListPage<T> {
  items: T[];
  nextToken?: string;
}

type SortValue = string | number;

/**
 * One page of a List* answer. Paging is by position in the sort order, not by
 * offset: the token carries the last item's sort key and name, so items created
 * or deleted between two calls neither repeat nor push others off a page. A token
 * is tied to the filters and sort it was made for; using it with others is a
 * ValidationException, as on AWS.
 */
export function listPage<T>(
  records: readonly T[],
  request: ListRequest,
  view: (record: T) => ListedItem,
  defaults: ListDefaults = {},
): ListPage<T> {
  const sortBy = request.SortBy ?? defaults.sortBy ?? 'CreationTime';
  const descending = (request.SortOrder ?? defaults.sortOrder ?? 'Descending') === 'Descending';
  const maxResults = request.MaxResults ?? DEFAULT_MAX_RESULTS;
  const sortValue = (item: ListedItem): SortValue => {
    if (sortBy === 'Name') return item.name;
    if (sortBy === 'Status') return item.status ?? '';
    if (sortBy === 'FinalObjectiveMetricValue') return item.objective!;
    return item.createdAtMs;
  };
  const seconds = (ms: number) => ms / 1000;
  const matches = (item: ListedItem) =>
    (sortBy !== 'FinalObjectiveMetricValue' || item.objective !== undefined) &&
    (request.NameContains === undefined || item.name.includes(request.NameContains)) &&
    (request.StatusEquals === undefined || item.status === request.StatusEquals) &&
    (request.CreationTimeAfter === undefined || seconds(item.createdAtMs) > request.CreationTimeAfter) &&
    (request.CreationTimeBefore === undefined || seconds(item.createdAtMs) < request.CreationTimeBefore) &&
    (request.LastModifiedTimeAfter === undefined || seconds(item.lastModifiedAtMs ?? item.createdAtMs) > request.LastModifiedTimeAfter) &&
    (request.LastModifiedTimeBefore === undefined || seconds(item.lastModifiedAtMs ?? item.createdAtMs) < request.LastModifiedTimeBefore);

  const order = (a: [SortValue, string], b: [SortValue, string]): number => {
    const byValue = compare(a[0], b[0]) || compare(a[1], b[1]);
    return descending ? -byValue : byValue;
  };
  const sorted = records
    .map((record) => ({ record, item: view(record) }))
    .filter(({ item }) => matches(item))
    .map((entry) => ({ ...entry, key: [sortValue(entry.item), entry.item.name] as [SortValue, string] }))
    .sort((a, b) => order(a.key, b.key));

  const query = fingerprint(request);
  const after = request.NextToken === undefined ? undefined : readToken(request.NextToken, query);
  const rest = after ? sorted.filter((entry) => order(entry.key, after) > 0) : sorted;
  const page = rest.slice(0, maxResults);
  const last = page.at(-1);
  return {
    items: page.map((entry) => entry.record),
    ...(rest.length > maxResults && last ? { nextToken: writeToken(query, last.key) } : {}),
  };
}

function compare(a: SortValue, b: SortValue): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The request without its paging members: what a token must be used with. */
function fingerprint(request: ListRequest): string {
  const { NextToken: _token, MaxResults: _max, ...query } = request;
  const canonical = JSON.stringify(Object.entries(query).sort(([a], [b]) => compare(a, b)));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

function writeToken(query: string, after: [SortValue, string]): string {
  return Buffer.from(JSON.stringify({ q: query, a: after })).toString('base64url');
}

function readToken(token: string, query: string): [SortValue, string] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const { q, a } = (parsed ?? {}) as { q?: unknown; a?: unknown };
  const valid = Array.isArray(a) && a.length === 2 && (typeof a[0] === 'string' || typeof a[0] === 'number') && typeof a[1] === 'string';
  if (!valid) throw new DomainError('ValidationError', 'Invalid pagination token: NextToken must be one returned by a previous call', { field: 'NextToken' });
  if (q !== query) {
    throw new DomainError('ValidationError', 'Invalid pagination token: NextToken was returned for other filters or sort order; repeat them with it', {
      field: 'NextToken',
    });
  }
  return a as [SortValue, string];
}
