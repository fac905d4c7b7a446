import { DomainError } from '../core/errors.ts';
import { assertBucketName, assertKeyPrefix, assertObjectKey } from '../domain/data/object-uri.ts';
import type { StoredObject } from './store.ts';

/**
 * Semantics of the object table that every Store implementation shares, so
 * the in-memory and SQLite stores accept, return and order the same objects.
 */

const DIGEST = /^[0-9a-f]{64}$/;

function invalidObject(object: StoredObject, field: string, expected: string): DomainError {
  return new DomainError(
    'ValidationError',
    `Object ${JSON.stringify(object.key)} in bucket ${object.bucket} has an invalid ${field} ${JSON.stringify(object[field as keyof StoredObject])}: expected ${expected}`,
    { bucket: object.bucket, key: object.key, field },
  );
}

/** The object as it is stored: checked field by field, with only StoredObject's fields. */
export function checkedObject(object: StoredObject): StoredObject {
  assertBucketName(object.bucket);
  assertObjectKey(object.key);
  if (typeof object.digest !== 'string' || !DIGEST.test(object.digest)) {
    throw invalidObject(object, 'digest', 'the SHA-256 of the content as 64 lowercase hexadecimal digits');
  }
  if (!Number.isSafeInteger(object.sizeBytes) || object.sizeBytes < 0) throw invalidObject(object, 'sizeBytes', 'a whole number of bytes');
  if (!Number.isSafeInteger(object.lastModifiedMs)) throw invalidObject(object, 'lastModifiedMs', 'whole milliseconds since the Unix epoch');
  if (object.contentType !== undefined && typeof object.contentType !== 'string') throw invalidObject(object, 'contentType', 'a string');
  const { bucket, key, digest, sizeBytes, lastModifiedMs, contentType } = object;
  return contentType === undefined ? { bucket, key, digest, sizeBytes, lastModifiedMs } : { bucket, key, digest, sizeBytes, lastModifiedMs, contentType };
}

/** The list arguments, checked; an absent limit is undefined (no limit). */
export function checkedListArguments(prefix: string, options: { startAfter?: string; limit?: number }): { startAfter?: string; limit?: number } {
  assertKeyPrefix(prefix);
  if (options.startAfter !== undefined) assertKeyPrefix(options.startAfter);
  if (options.limit !== undefined && (!Number.isSafeInteger(options.limit) || options.limit < 0)) {
    throw new DomainError('ValidationError', `Object listing limit ${options.limit} is invalid: expected a whole number of objects, 0 or more`, { field: 'limit' });
  }
  return options;
}

/** A UTF-16 unit's rank in code point order: surrogates (U+D800–DFFF) encode code points above U+FFFF, so they rank above U+E000–FFFF. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * Orders keys by code point, which is the order of their UTF-8 bytes: how S3
 * lists keys and how SQLite's BINARY collation compares them. Plain `<`
 * compares UTF-16 units and puts '🐕' (a surrogate pair) before 'ｚ' (U+FF5A).
 */
export function compareObjectKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}
