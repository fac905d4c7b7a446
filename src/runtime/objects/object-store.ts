import { stat } from 'node:fs/promises';
import type { Clock } from '../../core/clock.ts';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { assertBucketName, assertKeyPrefix, assertObjectKey, formatS3Uri } from '../../domain/data/object-uri.ts';
import type { ArtifactStore } from '../../store/artifacts.ts';
import type { ObjectTable, StoredObject } from '../../store/store.ts';

/** Objects per listing page: S3's ListObjectsV2 default and maximum. */
const LIST_PAGE_SIZE = 1000;

/**
 * Kennel's object store: `s3://bucket/key` resolves here. Metadata is a row in
 * the Store's object table; the bytes are an artifact in the content-addressed
 * ArtifactStore, so every write is atomic and every read is checked against
 * the object's SHA-256. Buckets need no creating: any valid name holds objects.
 */
export class ObjectStore {
  readonly #table: ObjectTable;
  readonly #artifacts: ArtifactStore;
  readonly #clock: Clock;

  constructor(table: ObjectTable, artifacts: ArtifactStore, clock: Clock) {
    this.#table = table;
    this.#artifacts = artifacts;
    this.#clock = clock;
  }

  async putBytes(bucket: string, key: string, bytes: Uint8Array, contentType?: string): Promise<StoredObject> {
    this.#assertAddress(bucket, key);
    const digest = await this.#artifacts.put(bytes);
    return this.#record(bucket, key, digest, bytes.byteLength, contentType);
  }

  /** Stores a copy of the file at `path`, read as a stream. */
  async putFile(bucket: string, key: string, path: string, contentType?: string): Promise<StoredObject> {
    this.#assertAddress(bucket, key);
    const digest = await this.#artifacts.putFile(path);
    // The size of the stored copy, which its digest names: the source may change after it was read.
    const { size } = await stat(this.#artifacts.path(digest));
    return this.#record(bucket, key, digest, size, contentType);
  }

  /** The object's metadata, or undefined when there is none. */
  head(bucket: string, key: string): StoredObject | undefined {
    this.#assertAddress(bucket, key);
    return this.#table.get(bucket, key);
  }

  /** The object's bytes, checked against its digest. */
  async get(bucket: string, key: string): Promise<Uint8Array> {
    const object = this.head(bucket, key);
    if (object === undefined) {
      throw new DomainError('NotFound', `Object ${formatS3Uri(bucket, key)} does not exist: upload it first, or check the bucket and key`, { bucket, key });
    }
    try {
      return await this.#artifacts.get(object.digest);
    } catch (error) {
      if (isDomainError(error) && error.code === 'NotFound') throw this.#contentMissing(object);
      throw error;
    }
  }

  /** One page of the objects whose key starts with `prefix`, ordered by key, after `startAfter`. */
  listPage(bucket: string, prefix: string, options: { startAfter?: string; limit: number }): StoredObject[] {
    assertBucketName(bucket);
    assertKeyPrefix(prefix);
    return this.#table.list(bucket, prefix, options);
  }

  /** Every object whose key starts with `prefix`, ordered by key. */
  list(bucket: string, prefix: string): StoredObject[] {
    assertBucketName(bucket);
    assertKeyPrefix(prefix);
    const objects: StoredObject[] = [];
    for (;;) {
      const startAfter = objects.length === 0 ? undefined : objects[objects.length - 1].key;
      const page = this.#table.list(bucket, prefix, { startAfter, limit: LIST_PAGE_SIZE });
      objects.push(...page);
      if (page.length < LIST_PAGE_SIZE) return objects;
    }
  }

  /**
   * Removes the object; says whether there was one. Its content stays in the
   * artifact store, where other objects and artifacts with the same bytes may
   * share it.
   */
  delete(bucket: string, key: string): boolean {
    this.#assertAddress(bucket, key);
    return this.#table.delete(bucket, key);
  }

  /**
   * The artifact file holding the object's bytes, for readers that stream or
   * hand a path to a library. It is shared, content-addressed storage: read
   * it, never write it; a reader that needs certainty checks it against
   * `object.digest`.
   */
  blobPath(object: StoredObject): string {
    return this.#artifacts.path(object.digest);
  }


  #assertAddress(bucket: string, key: string): void {
    assertBucketName(bucket);
    assertObjectKey(key);
  }

  #record(bucket: string, key: string, digest: string, sizeBytes: number, contentType: string | undefined): StoredObject {
    // Whole milliseconds, as S3 keeps LastModified and the table stores it.
    const object: StoredObject = { bucket, key, digest, sizeBytes, lastModifiedMs: Math.floor(this.#clock.now()) };
    if (contentType !== undefined) object.contentType = contentType;
    this.#table.put(object);
    return object;
  }

  #contentMissing(object: StoredObject): DomainError {
    return new DomainError(
      'Internal',
      `The content of ${formatS3Uri(object.bucket, object.key)} (sha256:${object.digest}) is missing from the artifact store ${this.#artifacts.dir}: upload the object again`,
      { bucket: object.bucket, key: object.key, digest: object.digest },
    );
  }

}
