import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyedTable, Store } from '../store/store.ts';
import { assertDomainError } from './assert-domain-error.ts';

/** The part of the Store contract every keyed record table shares: create, get, list, update, modify, delete, and copies kept. */

export interface ResourceCase<T extends object> {
  label: string;
  table: (store: Store) => KeyedTable<T>;
  /** The field the table is keyed by; `name` unless given. */
  keyField?: keyof T & string;
  make: (name: string) => T;
  /** A change to a top-level field, for update. */
  patch: Partial<T>;
  /** Changes fields the patch leaves alone (nested ones where the record has any), to prove the store holds copies. */
  mutate: (record: T) => void;
}

export function describeResourceTable<T extends object>(current: () => Store, c: ResourceCase<T>): void {
  describe(c.label, () => {
    const table = () => c.table(current());
    const keyField = c.keyField ?? ('name' as keyof T & string);
    const keyOf = (record: T) => record[keyField] as string;

    it('returns what was created, and undefined for a name never created', () => {
      table().create(c.make('first'));
      assert.deepEqual(table().get('first'), c.make('first'));
      assert.equal(table().get('missing'), undefined);
    });

    it('refuses a second create with the same name and keeps the first record', () => {
      table().create(c.make('taken'));
      assertDomainError(() => table().create({ ...c.make('taken'), ...c.patch }), 'AlreadyExists');
      assert.deepEqual(table().get('taken'), c.make('taken'));
    });

    it('lists every record ordered by name', () => {
      assert.deepEqual(table().list(), []);
      for (const name of ['charlie', 'alpha', 'bravo-2', 'bravo']) table().create(c.make(name));
      assert.deepEqual(
        table().list().map(keyOf),
        ['alpha', 'bravo', 'bravo-2', 'charlie'],
      );
      assert.deepEqual(table().list()[0], c.make('alpha'));
    });

    it('update merges the patch over the record, returns the result and stores it', () => {
      table().create(c.make('patched'));
      const updated = table().update('patched', c.patch);
      assert.deepEqual(updated, { ...c.make('patched'), ...c.patch });
      assert.deepEqual(table().get('patched'), updated);
    });

    it('update of a missing name throws NotFound and creates nothing', () => {
      assertDomainError(() => table().update('ghost', c.patch), 'NotFound');
      assert.equal(table().get('ghost'), undefined);
    });

    it('update refuses to rename and leaves the record as it was', () => {
      table().create(c.make('fixed'));
      assertDomainError(() => table().update('fixed', { [keyField]: 'renamed' } as Partial<T>), 'ValidationError');
      assert.deepEqual(table().get('fixed'), c.make('fixed'));
      assert.equal(table().get('renamed'), undefined);
    });

    it('modify stores what the change returns; a change that throws, or renames, leaves the record as it was', () => {
      table().create(c.make('changed'));
      const changed = table().modify('changed', (existing) => ({ ...existing, ...c.patch }));
      assert.deepEqual(changed, { ...c.make('changed'), ...c.patch });
      assert.deepEqual(table().get('changed'), changed);
      assert.throws(() => table().modify('changed', () => {
        throw new Error('half-way');
      }), /half-way/);
      assertDomainError(() => table().modify('changed', (existing) => ({ ...existing, [keyField]: 'renamed' })), 'ValidationError');
      assert.deepEqual(table().get('changed'), changed);
      assert.equal(table().get('renamed'), undefined);
      assertDomainError(() => table().modify('ghost', (existing) => existing), 'NotFound');
      assert.equal(table().get('ghost'), undefined);
    });

    it('delete removes the record and says whether there was one', () => {
      table().create(c.make('doomed'));
      assert.equal(table().delete('doomed'), true);
      assert.equal(table().get('doomed'), undefined);
      assert.equal(table().delete('doomed'), false);
      table().create(c.make('doomed'));
      assert.deepEqual(table().get('doomed'), c.make('doomed'));
    });

    it('revision changes with every create, update, modify and delete, and stays through reads', () => {
      const seen = new Set<string>();
      const step = (what: string, write: () => unknown) => {
        write();
        const revision = table().revision();
        assert.ok(!seen.has(revision), `${what} changed the revision`);
        seen.add(revision);
      };
      step('the start', () => {});
      step('create', () => table().create(c.make('revised')));
      step('update', () => table().update('revised', c.patch));
      step('modify', () => table().modify('revised', (existing) => existing));
      step('delete', () => table().delete('revised'));
      const before = table().revision();
      table().get('revised');
      table().list();
      assert.equal(table().revision(), before, 'reads leave the revision as it was');
    });

    it('keeps copies: changing a record after create, or a returned record, changes nothing stored', () => {
      const input = c.make('copied');
      table().create(input);
      c.mutate(input);
      c.mutate(table().get('copied')!);
      c.mutate(table().list()[0]);
      c.mutate(table().update('copied', c.patch));
      assert.deepEqual(table().get('copied'), { ...c.make('copied'), ...c.patch });
    });
  });
}
