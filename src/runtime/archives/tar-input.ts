import { createGunzip } from 'node:zlib';
import type { Extract } from 'tar-stream';
import { describeError } from '../../core/errors.ts';

/**
 * The parts of reading a tar archive as hostile input that every archive
 * Kennel unpacks shares (model.tar.gz, sourcedir.tar.gz): a bounded gunzip, a
 * back-pressured feed into tar-stream's parser, and the checks on entry types
 * and names. What each archive may hold, and what its refusals say, stays
 * with its reader.
 */

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * `bytes` gunzipped, stopped with `tooBig()` once the output passes
 * `maxBytes`: counting what comes out stops a gzip bomb, however it is built.
 */
export async function* gunzipAtMost(bytes: Uint8Array, maxBytes: number, tooBig: () => Error): AsyncGenerator<Buffer> {
  const gunzip = createGunzip();
  gunzip.end(bytes);
  let total = 0;
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooBig();
    yield chunk;
  }
}

/**
 * Writes `chunks` into the parser as fast as it takes them, then ends it; the
 * first error (a limit, bad gzip) destroys the parser, so that whoever reads
 * its entries sees that error.
 */
export function feedParser(extractor: Extract, chunks: AsyncIterable<Buffer>): Promise<void> {
  return (async () => {
    for await (const chunk of chunks) {
      if (extractor.destroyed) return;
      if (!extractor.write(chunk)) await writable(extractor);
    }
    // streamx's end() takes an optional last chunk.
    extractor.end(null);
  })().catch((error: unknown) => {
    extractor.destroy(error as Error);
  });
}

/** Resolves when `stream` can take more, or has closed. */
function writable(stream: Extract): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** What each refused tar entry type is, in words. */
const ENTRY_KINDS: Partial<Record<string, string>> = {
  symlink: 'symbolic link',
  link: 'hard link',
  'character-device': 'character device',
  'block-device': 'block device',
  fifo: 'FIFO',
};

/** Whether a tar entry of this type holds a file's content. */
export function isFileEntry(type: string | null): boolean {
  return type === 'file' || type === 'contiguous-file';
}

/** An entry that is neither a file nor a folder, in words: `symbolic link to "/etc/passwd"`. */
export function describeOtherEntry(header: { type: string | null; linkname?: string | null }): string {
  // An unknown type flag (GNU sparse files, volume labels) reaches here as null.
  const kind = (header.type !== null && ENTRY_KINDS[header.type]) || 'entry of an unsupported type';
  return `${kind}${header.linkname ? ` to ${JSON.stringify(header.linkname)}` : ''}`;
}

/**
 * Why a relative entry name cannot stand for a file inside `folder` ("the
 * model folder"), or undefined when it can. The name comes without a leading
 * `./` and is not empty.
 */
export function entryPathProblem(name: string, folder: string): string | undefined {
  if (name.startsWith('/')) return 'is an absolute path';
  if (name.includes('\0')) return 'contains a NUL character';
  const segments = name.split('/');
  if (segments.includes('..')) return `has a ".." segment, which would place it outside ${folder}`;
  if (segments.some((segment) => segment === '' || segment === '.')) return 'has an empty or "." path segment';
  return undefined;
}

/** A name without its leading `./` segments, as `tar czf x.tar.gz -C folder .` writes them. */
export function withoutDotSlash(name: string): string {
  let stripped = name;
  while (stripped.startsWith('./')) stripped = stripped.slice(2);
  return stripped;
}

/** tar-stream's complaint, without its guess that the data "needs to be gunzipped": here it already was. */
export function tarParserMessage(error: unknown): string {
  return describeError(error).replace(/\. Maybe the tar is corrupted or it needs to be gunzipped\?$/, '');
}

/** Whether the error came from zlib (bad gzip data). */
export function isZlibError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && code.startsWith('Z_');
}
