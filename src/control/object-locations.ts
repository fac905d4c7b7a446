import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DomainError } from '../core/errors.ts';
import { formatS3Uri, joinS3Key, parseObjectUri, type ObjectUri } from '../domain/data/object-uri.ts';
import type { ControlDeps } from './deps.ts';

/**
 * Kernel pseudo-filesystems: their "files" never end (/dev/zero), block (a FIFO)
 * or make a recursive mkdir spin (/proc/self/...). No data or model lives there.
 */
const SYSTEM_FOLDERS = ['/proc', '/sys', '/dev'];

/** The URI parsed, refusing file:// URIs into the kernel's pseudo-filesystems. */
export function parseLocation(uri: string): ObjectUri {
  const parsed = parseObjectUri(uri);
  if (parsed.scheme !== 'file') return parsed;
  const folder = SYSTEM_FOLDERS.find((system) => parsed.path === system || parsed.path.startsWith(`${system}/`));
  if (folder) throw new DomainError('ValidationError', `${uri} is under ${folder}, a system folder: give ordinary files and folders`, { uri });
  return parsed;
}

/** Whether two URIs name the same object or file (`file:///x` and `file://localhost/x` do). */
export function sameLocation(a: string, b: string): boolean {
  const [x, y] = [parseObjectUri(a), parseObjectUri(b)];
  if (x.scheme === 's3' && y.scheme === 's3') return x.bucket === y.bucket && x.key === y.key;
  return x.scheme === 'file' && y.scheme === 'file' && x.path === y.path;
}

/** `<outputPath>/<parts...>` for an s3:// or file:// output path. */
export function childUri(base: string, ...parts: string[]): string {
  const uri = parseLocation(base);
  if (uri.scheme === 's3') return formatS3Uri(uri.bucket, joinS3Key(uri.key, ...parts));
  return pathToFileURL(join(uri.path, ...parts)).href;
}

/** Writes bytes at an s3:// URI (the object store) or a file:// URI (atomically: a reader sees all or nothing). */
export async function writeObject(deps: ControlDeps, target: string, bytes: Uint8Array, contentType?: string): Promise<void> {
  const uri = parseLocation(target);
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

/** The bytes at an s3:// or file:// URI, if it is a file of at most `maxBytes`; NotFound names the URI. */
export async function readObject(deps: ControlDeps, source: string, maxBytes: number): Promise<Uint8Array> {
  const uri = parseLocation(source);
  const tooBig = (size: number) =>
    new DomainError('ValidationError', `${source} is ${size} bytes; the most Kennel reads here is ${maxBytes}`, { uri: source });
  if (uri.scheme === 's3') {
    const object = deps.objects.head(uri.bucket, uri.key);
    if (!object) throw new DomainError('NotFound', `${source} does not exist`, { uri: source });
    if (object.sizeBytes > maxBytes) throw tooBig(object.sizeBytes);
    return deps.objects.get(uri.bucket, uri.key);
  }
  const info = await stat(uri.path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new DomainError('NotFound', `${source} does not exist`, { uri: source });
    throw new DomainError('ValidationError', `${source} cannot be read (${error.message})`, { uri: source });
  });
  if (!info.isFile()) throw new DomainError('ValidationError', `${source} is not a regular file`, { uri: source });
  if (info.size > maxBytes) throw tooBig(info.size);
  return readFile(uri.path);
}
