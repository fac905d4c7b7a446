import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DomainError } from '../core/errors.ts';

/**
 * Content-addressed artifact files (models, labels, metrics, backbones): an
 * artifact is named by the SHA-256 of its bytes, so the same content is stored
 * once and a name can never point at different bytes.
 *
 * Layout: `dir/sha256/ab/cdef…` (the first two hex digits shard the folder),
 * and `dir/tmp/` for files being written. Writes go to a temp file under
 * `dir` (so the same filesystem), are fsynced, then renamed into place: a
 * reader, or a restart after kill -9, sees a whole file or none.
 */
export interface ArtifactStore {
  readonly dir: string;
  /** Stores `bytes` and returns their SHA-256 digest (64 lowercase hex digits). */
  put(bytes: Uint8Array): Promise<string>;
  /** Stores a copy of the file at `path`, read as a stream, and returns its digest. */
  putFile(path: string): Promise<string>;
  /** The artifact's bytes; NotFound if missing, and an error if the file no longer matches its digest. */
  get(digest: string): Promise<Uint8Array>;
  /** Where the artifact's file is (or would be): for readers that stream or hand a path to a library. */
  path(digest: string): string;
  has(digest: string): Promise<boolean>;
}

const DIGEST = /^[0-9a-f]{64}$/;

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Writes every byte: a single write() may write fewer than asked. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset);
    offset += bytesWritten;
  }
}

/** Makes a rename in `dir` survive power loss: the directory entry itself must reach the disk. */
async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync, and makes renames durable itself.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function createArtifactStore(dir: string): ArtifactStore {
  const tempDir = join(dir, 'tmp');

  function pathOf(digest: string): string {
    if (typeof digest !== 'string' || !DIGEST.test(digest)) {
      throw new DomainError(
        'ValidationError',
        `${JSON.stringify(digest)} is not an artifact digest: expected 64 lowercase hexadecimal digits (a SHA-256)`,
        { field: 'digest' },
      );
    }
    return join(dir, 'sha256', digest.slice(0, 2), digest.slice(2));
  }

  /**
   * Runs `write` on a new temp file, fsyncs it and returns its path. The temp
   * file is removed if anything fails; on success the caller must rename or
   * remove it.
   */
  async function writeTemp<T>(write: (handle: FileHandle) => Promise<T>): Promise<{ temp: string; result: T }> {
    await mkdir(tempDir, { recursive: true });
    const temp = join(tempDir, `${randomBytes(12).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx');
    try {
      const result = await write(handle);
      await handle.sync();
      await handle.close();
      return { temp, result };
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
  }

  async function moveIntoPlace(temp: string, digest: string): Promise<void> {
    const target = pathOf(digest);
    try {
      await mkdir(dirname(target), { recursive: true });
      // rename() atomically replaces an existing file, so concurrent puts of the same content are safe.
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    await syncDirectory(dirname(target));
  }

  async function hasIntactCopy(digest: string): Promise<boolean> {
    try {
      return sha256Hex(await readFile(pathOf(digest))) === digest;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  return {
    dir,

    async put(bytes) {
      const digest = sha256Hex(bytes);
      // Present and intact: nothing to do. Present but damaged: the atomic write below repairs it.
      if (await hasIntactCopy(digest)) return digest;
      const { temp } = await writeTemp((handle) => writeAll(handle, bytes));
      await moveIntoPlace(temp, digest);
      return digest;
    },

    async putFile(path) {
      // Hash while copying, so the source is read once; the digest is known only at the end.
      const { temp, result: digest } = await writeTemp(async (handle) => {
        const hash = createHash('sha256');
        try {
          for await (const chunk of createReadStream(path)) {
            hash.update(chunk as Buffer);
            await writeAll(handle, chunk as Buffer);
          }
        } catch (error) {
          if (isMissing(error)) throw new DomainError('NotFound', `File ${path} does not exist`, { path });
          throw error;
        }
        return hash.digest('hex');
      });
      // The copy is already written and synced, so replacing an existing file costs less than checking it.
      await moveIntoPlace(temp, digest);
      return digest;
    },

    async get(digest) {
      const file = pathOf(digest);
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (error) {
        if (isMissing(error)) throw new DomainError('NotFound', `Artifact sha256:${digest} does not exist`, { digest });
        throw error;
      }
      const actual = sha256Hex(bytes);
      if (actual !== digest) {
        throw new DomainError(
          'Internal',
          `Artifact file ${file} is corrupt: its content hashes to ${actual}, not ${digest}. Store the artifact again (put overwrites a damaged copy) or recreate the resource that made it.`,
          { digest, file, actualDigest: actual },
        );
      }
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },

    path: pathOf,

    async has(digest) {
      const file = pathOf(digest);
      try {
        return (await stat(file)).isFile();
      } catch (error) {
        if (isMissing(error)) return false;
        throw error;
      }
    },
  };
}
