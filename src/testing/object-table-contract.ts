import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Store, StoredObject } from '../store/store.ts';
import { assertDomainError } from './assert-domain-error.ts';

export function storedObject(bucket: string, key: string, overrides: Partial<StoredObject> = {}): StoredObject {
  return { bucket, key, digest: 'e'.repeat(64), sizeBytes: 3, lastModifiedMs: 1_700_000_000_123, ...overrides };
}

/** The object table's part of the Store contract, which store-contract.ts runs against every backend. */
export function describeObjectTable(current: () => Store): void {
  const objects = () => current().objects;
  describe('objects', () => {
    const keys = (bucket: string, prefix: string, options?: { startAfter?: string; limit?: number }) =>
      objects().list(bucket, prefix, options).map((o) => o.key);
    const putAll = (bucket: string, names: readonly string[]) => {
      for (const key of names) objects().put(storedObject(bucket, key));
    };

    it('returns what was put, and undefined for a key or bucket never put', () => {
      const typed = storedObject('bucket-a', 'train/a.jpg', { contentType: 'image/jpeg', sizeBytes: 0 });
      objects().put(typed);
      objects().put(storedObject('bucket-a', 'plain'));
      assert.deepEqual(objects().get('bucket-a', 'train/a.jpg'), typed);
      assert.deepEqual(objects().get('bucket-a', 'plain'), storedObject('bucket-a', 'plain'));
      assert.equal('contentType' in objects().get('bucket-a', 'plain')!, false);
      assert.equal(objects().get('bucket-a', 'train/b.jpg'), undefined);
      assert.equal(objects().get('bucket-b', 'train/a.jpg'), undefined);
    });

    it('put replaces the object at the same bucket and key, and only that one', () => {
      objects().put(storedObject('bucket-a', 'k', { contentType: 'text/plain' }));
      objects().put(storedObject('bucket-b', 'k'));
      const replacement = storedObject('bucket-a', 'k', { digest: 'f'.repeat(64), sizeBytes: 99, lastModifiedMs: 5 });
      objects().put(replacement);
      assert.deepEqual(objects().get('bucket-a', 'k'), replacement);
      assert.deepEqual(objects().get('bucket-b', 'k'), storedObject('bucket-b', 'k'));
      assert.deepEqual(keys('bucket-a', ''), ['k']);
    });

    it('lists a bucket’s objects ordered by key bytes, and only that bucket’s', () => {
      putAll('bucket-a', ['b', 'a/b', 'a', 'A', 'a-b', 'a.b', 'a0']);
      putAll('bucket-b', ['a', 'c']);
      assert.deepEqual(keys('bucket-a', ''), ['A', 'a', 'a-b', 'a.b', 'a/b', 'a0', 'b']);
      assert.deepEqual(keys('bucket-b', ''), ['a', 'c']);
      assert.deepEqual(keys('bucket-c', ''), []);
      assert.deepEqual(objects().list('bucket-b', '')[1], storedObject('bucket-b', 'c'));
    });

    it('matches the prefix literally: %, _, \\, quotes and brackets are ordinary characters', () => {
      const names = ['data%/x', 'data%', 'data_/y', 'dataX/z', 'data\\w', "data'q", 'data[1]', 'data*', 'datum', 'dat'];
      putAll('bucket-a', names);
      assert.deepEqual(keys('bucket-a', 'data%'), ['data%', 'data%/x']);
      assert.deepEqual(keys('bucket-a', 'data_'), ['data_/y']);
      assert.deepEqual(keys('bucket-a', 'data\\'), ['data\\w']);
      assert.deepEqual(keys('bucket-a', "data'"), ["data'q"]);
      assert.deepEqual(keys('bucket-a', 'data['), ['data[1]']);
      assert.deepEqual(keys('bucket-a', 'data*'), ['data*']);
      assert.deepEqual(keys('bucket-a', 'data'), names.filter((n) => n.startsWith('data')).sort());
      assert.deepEqual(keys('bucket-a', 'data%/x'), ['data%/x']);
      assert.deepEqual(keys('bucket-a', 'nothing'), []);
    });

    it('orders unicode keys by code point, as S3 lists UTF-8 keys, and matches unicode prefixes', () => {
      // UTF-16 order would put the emoji (a surrogate pair) before U+FF5A.
      putAll('bucket-a', ['\u{1F415}/b', 'z', '\uFF5A', '\u{1F415}', 'é', '\u{10FFFF}', '\u{10FFFF}x', 'e\u0301']);
      assert.deepEqual(keys('bucket-a', ''), ['e\u0301', 'z', 'é', '\uFF5A', '\u{1F415}', '\u{1F415}/b', '\u{10FFFF}', '\u{10FFFF}x']);
      assert.deepEqual(keys('bucket-a', '\u{1F415}'), ['\u{1F415}', '\u{1F415}/b']);
      assert.deepEqual(keys('bucket-a', '\u{10FFFF}'), ['\u{10FFFF}', '\u{10FFFF}x']);
      assert.deepEqual(keys('bucket-a', 'e'), ['e\u0301'], 'no normalisation: é is not e + combining accent');
      assert.deepEqual(keys('bucket-a', 'é', { startAfter: 'z' }), ['é']);
    });

    it('ends a prefix match exactly where the prefix stops matching', () => {
      putAll('bucket-a', ['a\u{10FFFF}', 'a\u{10FFFF}z', 'b', '\uD7FFa', '\uD7FF', '\uE000', 'ab', 'a\uFFFF', 'a\u{10000}']);
      assert.deepEqual(keys('bucket-a', 'a\u{10FFFF}'), ['a\u{10FFFF}', 'a\u{10FFFF}z']);
      assert.deepEqual(keys('bucket-a', '\uD7FF'), ['\uD7FF', '\uD7FFa']);
      assert.deepEqual(keys('bucket-a', 'a\uFFFF'), ['a\uFFFF']);
      assert.deepEqual(keys('bucket-a', 'a'), ['ab', 'a\uFFFF', 'a\u{10000}', 'a\u{10FFFF}', 'a\u{10FFFF}z']);
    });

    it('pages with startAfter and limit', () => {
      const names = Array.from({ length: 25 }, (_, i) => `p/${String(i).padStart(2, '0')}`);
      putAll('bucket-a', [...names, 'o/before', 'q/after']);
      const seen: string[] = [];
      let startAfter: string | undefined;
      for (;;) {
        const page = keys('bucket-a', 'p/', { startAfter, limit: 10 });
        seen.push(...page);
        if (page.length < 10) break;
        startAfter = page[page.length - 1];
      }
      assert.deepEqual(seen, names);
      assert.deepEqual(keys('bucket-a', 'p/', { limit: 3 }), names.slice(0, 3));
      assert.deepEqual(keys('bucket-a', 'p/', { startAfter: 'p/10' }), names.slice(11));
      assert.deepEqual(keys('bucket-a', 'p/', { startAfter: 'p/10x', limit: 2 }), ['p/11', 'p/12'], 'startAfter need not be a stored key');
      assert.deepEqual(keys('bucket-a', 'p/', { startAfter: 'a' }), names, 'a startAfter before the prefix changes nothing');
      assert.deepEqual(keys('bucket-a', 'p/', { startAfter: 'p/24' }), []);
      assert.deepEqual(keys('bucket-a', 'p/', { startAfter: 'z' }), []);
      assert.deepEqual(keys('bucket-a', 'p/', { limit: 0 }), []);
      assert.deepEqual(keys('bucket-a', '', { startAfter: 'p/24' }), ['q/after']);
    });

    it('refuses a malformed listing limit or prefix', () => {
      assertDomainError(() => objects().list('bucket-a', '', { limit: -1 }), 'ValidationError');
      assertDomainError(() => objects().list('bucket-a', '', { limit: 1.5 }), 'ValidationError');
      assertDomainError(() => objects().list('bucket-a', 'bad\ud800'), 'ValidationError');
    });

    it('delete removes the object and says whether there was one', () => {
      putAll('bucket-a', ['doomed', 'kept']);
      assert.equal(objects().delete('bucket-a', 'doomed'), true);
      assert.equal(objects().get('bucket-a', 'doomed'), undefined);
      assert.equal(objects().delete('bucket-a', 'doomed'), false);
      assert.equal(objects().delete('bucket-b', 'kept'), false);
      assert.deepEqual(keys('bucket-a', ''), ['kept']);
      objects().put(storedObject('bucket-a', 'doomed'));
      assert.deepEqual(keys('bucket-a', ''), ['doomed', 'kept']);
    });

    it('refuses a malformed object and stores nothing', () => {
      const malformed: StoredObject[] = [
        storedObject('Bad_Bucket', 'k'),
        storedObject('bucket-a', ''),
        storedObject('bucket-a', 'x'.repeat(1025)),
        storedObject('bucket-a', 'k', { digest: 'E'.repeat(64) }),
        storedObject('bucket-a', 'k', { digest: 'e'.repeat(63) }),
        storedObject('bucket-a', 'k', { sizeBytes: -1 }),
        storedObject('bucket-a', 'k', { sizeBytes: 1.5 }),
        storedObject('bucket-a', 'k', { lastModifiedMs: 0.5 }),
        storedObject('bucket-a', 'k', { contentType: 7 as unknown as string }),
      ];
      for (const object of malformed) assertDomainError(() => objects().put(object), 'ValidationError');
      assert.deepEqual(keys('bucket-a', ''), []);
    });

    it('keeps copies with only the object’s fields', () => {
      const input = { ...storedObject('bucket-a', 'k'), extra: 'dropped' } as StoredObject;
      objects().put(input);
      input.sizeBytes = 1000;
      objects().get('bucket-a', 'k')!.digest = 'changed';
      objects().list('bucket-a', '')[0].sizeBytes = 0;
      assert.deepEqual(objects().get('bucket-a', 'k'), storedObject('bucket-a', 'k'));
    });
  });
}
