import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import { listPage, type ListRequest } from './list-page.ts';

interface Item {
  name: string;
  createdAtMs: number;
  status: string;
}

const T0 = 1_800_000_000_000;
const items: Item[] = ['delta', 'alpha', 'echo', 'charlie', 'bravo'].map((name, i) => ({
  name,
  createdAtMs: T0 + i * 1000,
  status: i % 2 === 0 ? 'Completed' : 'InProgress',
}));
const view = (item: Item) => item;
const names = (request: ListRequest, from = items) => listPage(from, request, view).items.map((item) => item.name);

/** Every page, following NextToken until there is none. */
function allPages(request: ListRequest, from = items): string[][] {
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const page = listPage(from, { ...request, ...(token ? { NextToken: token } : {}) }, view);
    pages.push(page.items.map((item) => item.name));
    token = page.nextToken;
  } while (token);
  return pages;
}

describe('listPage', () => {
  it('lists newest first by default, ten per page; an operation may default to oldest first', () => {
    assert.deepEqual(names({}), ['bravo', 'charlie', 'echo', 'alpha', 'delta']);
    assert.deepEqual(listPage(items, {}, view, { sortOrder: 'Ascending' }).items.map((item) => item.name), ['delta', 'alpha', 'echo', 'charlie', 'bravo']);
    const many = Array.from({ length: 25 }, (_, i) => ({ name: `job-${String(i).padStart(2, '0')}`, createdAtMs: T0 + i, status: 'Completed' }));
    assert.deepEqual(allPages({}, many).map((page) => page.length), [10, 10, 5]);
  });

  const cases: [string, ListRequest, string[]][] = [
    ['sorted by name, ascending', { SortBy: 'Name', SortOrder: 'Ascending' }, ['alpha', 'bravo', 'charlie', 'delta', 'echo']],
    ['sorted by name, descending', { SortBy: 'Name', SortOrder: 'Descending' }, ['echo', 'delta', 'charlie', 'bravo', 'alpha']],
    ['oldest first', { SortOrder: 'Ascending' }, ['delta', 'alpha', 'echo', 'charlie', 'bravo']],
    ['by status, then name', { SortBy: 'Status', SortOrder: 'Ascending' }, ['bravo', 'delta', 'echo', 'alpha', 'charlie']],
    ['NameContains', { NameContains: 'ha', SortBy: 'Name', SortOrder: 'Ascending' }, ['alpha', 'charlie']],
    ['NameContains is case-sensitive', { NameContains: 'HA' }, []],
    ['StatusEquals', { StatusEquals: 'InProgress', SortBy: 'Name', SortOrder: 'Ascending' }, ['alpha', 'charlie']],
    ['CreationTimeAfter is exclusive', { CreationTimeAfter: (T0 + 2000) / 1000, SortOrder: 'Ascending' }, ['charlie', 'bravo']],
    ['CreationTimeBefore is exclusive', { CreationTimeBefore: (T0 + 2000) / 1000, SortOrder: 'Ascending' }, ['delta', 'alpha']],
    ['a time window', { CreationTimeAfter: (T0 + 500) / 1000, CreationTimeBefore: (T0 + 3500) / 1000, SortOrder: 'Ascending' }, ['alpha', 'echo', 'charlie']],
  ];
  for (const [what, request, expected] of cases) {
    it(what, () => assert.deepEqual(names(request), expected));
  }

  it('pages through every item exactly once, whatever the page size', () => {
    for (const MaxResults of [1, 2, 3, 5, 100]) {
      const pages = allPages({ MaxResults, SortBy: 'Name', SortOrder: 'Ascending' });
      assert.deepEqual(pages.flat(), ['alpha', 'bravo', 'charlie', 'delta', 'echo'], `MaxResults ${MaxResults}`);
      assert.ok(pages.every((page) => page.length <= MaxResults));
    }
  });

  it('a resource created between pages neither repeats an item nor pushes one off a page', () => {
    const first = listPage(items, { MaxResults: 2, SortBy: 'Name', SortOrder: 'Ascending' }, view);
    assert.deepEqual(first.items.map((item) => item.name), ['alpha', 'bravo']);
    const grown = [...items, { name: 'aardvark', createdAtMs: T0 + 9000, status: 'Completed' }];
    const rest = listPage(grown, { MaxResults: 10, SortBy: 'Name', SortOrder: 'Ascending', NextToken: first.nextToken }, view);
    assert.deepEqual(rest.items.map((item) => item.name), ['charlie', 'delta', 'echo']);
    assert.equal(rest.nextToken, undefined);
  });

  it('refuses a garbage NextToken, and one made for other filters', () => {
    const token = listPage(items, { MaxResults: 1, SortBy: 'Name' }, view).nextToken!;
    for (const request of [{ NextToken: 'garbage' }, { NextToken: Buffer.from('{"q":1}').toString('base64url') }, { NextToken: token, SortBy: 'CreationTime' }]) {
      assert.throws(() => listPage(items, request, view), (error: unknown) => isDomainError(error) && error.code === 'ValidationError' && /NextToken/.test(error.message));
    }
    assert.doesNotThrow(() => listPage(items, { NextToken: token, SortBy: 'Name', MaxResults: 3 }, view), 'a different page size is fine');
  });
});
