import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { constants, copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.ts';
import { mapWithConcurrency } from '../../core/concurrency.ts';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { assertBucketName, assertKeyPrefix, assertObjectKey, formatS3Uri } from '../../domain/data/object-uri.ts';
import type { ArtifactStore } from '../../store/artifacts.ts';
import type { ObjectTable, StoredObject } from '../../store/store.ts';

/** Objects per listing page: S3's ListObjectsV2 default and maximum. */
const LIST_PAGE_SIZE = 1000;

/** Copies in flight while materialising: enough to keep libuv's four-thread pool busy. */
const COPY_CONCURRENCY = 8;

/** NAME_MAX on Linux and macOS filesystems: a longer path segment cannot be created. */
const MAX_FILE_NAME_BYTES = 255;

/** A file materialise writes: the object, and its path relative to the destination folder. */
interface PlannedFile {
  object: StoredObject;
  relativePath: string;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

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

  /**
   * Writes every object under `prefix` into `destDir` at its key relative to
   * the prefix, as SageMaker's File input mode downloads a channel: objects
   * `train/a/1.jpg` and `train/b/2.jpg` under prefix `train/` become
   * `destDir/a/1.jpg` and `destDir/b/2.jpg`. A prefix is read as a folder
   * (`train` means the keys under `train/`, not `training.csv`), and one that
   * names an object gives that object too, under its last key segment. Keys
   * ending in `/` with no content are folder markers (as S3 consoles make) and
   * become folders.
   *
   * `destDir` must be missing or empty. Every key is checked before anything
   * is written, so a refusal leaves nothing behind. Files are reflinked where
   * the filesystem can and copied otherwise, never hard-linked: a writer in
   * `destDir` must not be able to change shared content-addressed bytes. Each
   * file is checked against its digest once written.
   */
  async materialise(bucket: string, prefix: string, destDir: string): Promise<{ files: number; bytes: number }> {
    const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    const named = folder === prefix ? undefined : this.head(bucket, prefix);
    const placed = this.list(bucket, folder).map((object) => ({ object, relative: object.key.slice(folder.length) }));
    if (named !== undefined) placed.unshift({ object: named, relative: prefix.slice(prefix.lastIndexOf('/') + 1) });
    const { files, folders } = this.#plan(bucket, placed);
    await this.#prepareDestination(destDir);
    for (const path of folders) await mkdir(join(destDir, path), { recursive: true });
    await mapWithConcurrency(files, COPY_CONCURRENCY, (file) => this.#copyOut(bucket, file, destDir));
    return { files: files.length, bytes: files.reduce((sum, file) => sum + file.object.sizeBytes, 0) };
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

  /** Where each object goes, and the folders to create; throws before anything is written if any key cannot be a file there. */
  #plan(bucket: string, placed: readonly { object: StoredObject; relative: string }[]): { files: PlannedFile[]; folders: string[] } {
    const refuse = (object: StoredObject, why: string) =>
      new DomainError(
        'ValidationError',
        `Cannot write ${formatS3Uri(bucket, object.key)} into a folder: ${why}. Rename the object, or choose a prefix that excludes it.`,
        { bucket, key: object.key },
      );
    const claims = new Map<string, { isFolder: boolean; key: string }>();
    const claim = (path: string, isFolder: boolean, key: string) => {
      const earlier = claims.get(path);
      if (earlier === undefined) claims.set(path, { isFolder, key });
      else if (!(earlier.isFolder && isFolder)) throw this.#pathClash(bucket, earlier, { isFolder, key }, path);
    };
    const files: PlannedFile[] = [];

    for (const { object, relative } of placed) {
      const isFolder = relative === '' || relative.endsWith('/');
      if (isFolder && object.sizeBytes > 0) throw refuse(object, `its key ends in "/", which names a folder, but it holds ${object.sizeBytes} bytes`);
      if (relative === '') continue;

      const path = isFolder ? relative.slice(0, -1) : relative;
      const where = `its path relative to the prefix, ${JSON.stringify(relative)},`;
      if (path.startsWith('/')) throw refuse(object, `${where} is absolute`);
      const segments = path.split('/');
      if (segments.includes('..')) throw refuse(object, `${where} has a ".." segment that would escape the folder`);
      if (segments.some((segment) => segment === '' || segment === '.')) throw refuse(object, `${where} has an empty or "." segment`);
      if (path.includes('\0')) throw refuse(object, 'its key contains a NUL character, which no file name can hold');
      if (segments.some((segment) => Buffer.byteLength(segment) > MAX_FILE_NAME_BYTES)) {
        throw refuse(object, `${where} has a segment over ${MAX_FILE_NAME_BYTES} bytes, the longest file name most filesystems allow`);
      }

      for (let depth = 1; depth < segments.length; depth++) claim(segments.slice(0, depth).join('/'), true, object.key);
      claim(path, isFolder, object.key);
      if (!isFolder) files.push({ object, relativePath: path });
    }
    const folders = [...claims].filter(([, entry]) => entry.isFolder).map(([path]) => path);
    return { files, folders };
  }

  #pathClash(bucket: string, a: { isFolder: boolean; key: string }, b: { isFolder: boolean; key: string }, path: string): DomainError {
    const both = `Cannot write ${formatS3Uri(bucket, a.key)} and ${formatS3Uri(bucket, b.key)} into one folder`;
    const why = a.isFolder || b.isFolder ? `${JSON.stringify(path)} would have to be both a file and a folder` : `both would be written to ${JSON.stringify(path)}`;
    return new DomainError('ValidationError', `${both}: ${why}. Rename or delete one of the objects.`, { bucket, keys: [a.key, b.key], path });
  }

  async #prepareDestination(destDir: string): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(destDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw this.#destinationInUse(destDir, 'it is a file, not a folder');
      if (code !== 'ENOENT') throw error;
      await mkdir(destDir, { recursive: true });
      return;
    }
    if (entries.length > 0) throw this.#destinationInUse(destDir, 'the folder is not empty');
  }

  #destinationInUse(destDir: string, why: string): DomainError {
    return new DomainError('Conflict', `Cannot materialise objects into ${destDir}: ${why}. Choose a new folder, or empty this one.`, { destDir });
  }

  async #copyOut(bucket: string, file: PlannedFile, destDir: string): Promise<void> {
    const target = join(destDir, file.relativePath);
    try {
      // EXCL: the plan gave every file its own path, so something already there was put there by someone else.
      await copyFile(this.blobPath(file.object), target, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
    } catch (error) {
      if (isMissing(error)) throw this.#contentMissing(file.object);
      throw error;
    }
    const actual = await sha256OfFile(target);
    if (actual !== file.object.digest) {
      await rm(target, { force: true });
      throw new DomainError(
        'Internal',
        `The content of ${formatS3Uri(bucket, file.object.key)} is corrupt in the artifact store: it hashes to ${actual}, not ${file.object.digest}. Upload the object again.`,
        { bucket, key: file.object.key, digest: file.object.digest, actualDigest: actual },
      );
    }
  }
}
