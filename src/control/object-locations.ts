import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DomainError } from '../core/errors.ts';
import { formatS3Uri, joinS3Key, parseObjectUri } from '../domain/data/object-uri.ts';
import type { ControlDeps } from './deps.ts';

/** `<outputPath>/<parts...>` for an s3:// or file:// output path. */
export function childUri(base: string, ...parts: string[]): string {
  const uri = parseObjectUri(base);
  if (uri.scheme === 's3') return formatS3Uri(uri.bucket, joinS3Key(uri.key, ...parts));
  return pathToFileURL(join(uri.path, ...parts)).href;
}

/** Writes bytes at an s3:// URI (the object store) or a file:// URI (atomically: a reader sees all or nothing). */
export async function writeObject(deps: ControlDeps, target: string, bytes: Uint8Array, contentType?: string): Promise<void> {
  const uri = parseObjectUri(target);
  if (uri.scheme === 's3') {
    await deps.objects.putBytes(uri.bucket, uri.key, bytes, contentType);
    return;
  }
  await mkdir(dirname(uri.path), { recursive: true });
  const temp = `${uri.path}.${randomBytes(6).toString('hex')}.partial`;
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, uri.path);
}

/** The bytes at an s3:// or file:// URI; NotFound names the URI. */
export async function readObject(deps: ControlDeps, source: string): Promise<Uint8Array> {
  const uri = parseObjectUri(source);
  if (uri.scheme === 's3') return deps.objects.get(uri.bucket, uri.key);
  try {
    return await readFile(uri.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DomainError('NotFound', `${source} does not exist`, { uri: source });
    throw new DomainError('ValidationError', `${source} cannot be read (${(error as Error).message})`, { uri: source });
  }
}
