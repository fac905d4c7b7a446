import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import tar from 'tar-stream';
import { DomainError, describeError, isDomainError } from '../../core/errors.ts';
import {
  describeOtherEntry,
  entryPathProblem,
  feedParser,
  gunzipAtMost,
  isFileEntry,
  isZlibError,
  tarParserMessage,
  withoutDotSlash,
} from '../archives/tar-input.ts';

/**
 * SageMaker's model artifact format: `model.tar.gz`, a gzip-compressed tar of
 * the model's files. Both directions work in memory; nothing touches the disk.
 */

export interface UnpackLimits {
  /** Entries of any kind, folders included. */
  maxEntries?: number;
  /** Bytes of the uncompressed tar stream (headers and contents): what a gzip bomb would inflate. */
  maxTotalBytes?: number;
  /** Bytes of one file's content. */
  maxEntryBytes?: number;
}

export interface UnpackOptions extends UnpackLimits {
  /** Keep only these names; other files are read past and dropped, so an archive of big files Kennel does not use costs no memory. */
  only?: ReadonlySet<string>;
}

const GIB = 1024 ** 3;
const DEFAULT_LIMITS: Required<UnpackLimits> = { maxEntries: 1000, maxTotalBytes: 2 * GIB, maxEntryBytes: 2 * GIB };

const gzipAsync = promisify(gzip);

const HOW_TO_MAKE = 'Make one with: tar czf model.tar.gz -C <model folder> .';

function refused(why: string, details: Record<string, unknown> = {}): DomainError {
  return new DomainError('ValidationError', `model.tar.gz ${why}`, details);
}

/** Why `name` cannot name a file in a model archive, or undefined when it can: a relative path that stays inside the model folder. */
function entryNameProblem(name: string): string | undefined {
  return name === '' ? 'is empty' : entryPathProblem(name, 'the model folder');
}

/**
 * A gzip-compressed tar of `files`, regular files with mode 0644. The same
 * files and mtime give the same bytes: entries are sorted by name and owners
 * are fixed (uid and gid 0, no owner names), so nothing about the machine that
 * packed it gets in. Names are relative paths with `/` between folders.
 */
export async function packModelArchive(
  files: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array>,
  options: { mtimeMs?: number } = {},
): Promise<Uint8Array> {
  const entries = [...(files instanceof Map ? files : Object.entries(files))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name] of entries) {
    const problem = entryNameProblem(name);
    if (problem !== undefined) throw refused(`entry name ${JSON.stringify(name)} ${problem}: use a relative path such as "model.onnx" or "code/inference.py"`, { name });
  }
  const mtime = new Date(options.mtimeMs ?? 0);
  const packer = tar.pack();
  const tarBytes = buffer(packer);
  for (const [name, bytes] of entries) {
    // tar-stream takes the content only as a Buffer; a plain Uint8Array would leave the entry waiting for writes.
    packer.entry(
      { name, type: 'file', mode: 0o644, mtime, uid: 0, gid: 0, uname: '', gname: '' },
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    );
  }
  packer.finalize();
  // zlib writes a zero mtime and this platform's OS byte into the gzip header, so the output is stable too.
  const compressed = await gzipAsync(await tarBytes);
  return new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength);
}

/** zlib's and tar-stream's complaint, saying which layer made it. */
function formatReason(error: unknown): string {
  return isZlibError(error) ? `gzip: ${describeError(error)}` : `tar: ${tarParserMessage(error)}`;
}

function concatenate(chunks: readonly Buffer[], size: number): Uint8Array {
  // A fresh buffer: Buffer.concat may hand out a slice of Node's shared pool.
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * The regular files in a model.tar.gz, by name, read as hostile input: only
 * regular files are returned and folders are skipped. Links (symbolic or
 * hard), devices and FIFOs are refused rather than skipped, because a model
 * whose files are links would load something other than what was archived. A
 * leading `./` is stripped from names; absolute names, `..` segments and
 * duplicate names are refused. The limits are enforced while streaming, so an
 * archive over them is stopped at the limit, not inflated into memory first.
 * Every refusal is DomainError('ValidationError').
 */
export async function unpackModelArchive(bytes: Uint8Array, options: UnpackOptions = {}): Promise<Map<string, Uint8Array>> {
  const { maxEntries, maxTotalBytes, maxEntryBytes } = { ...DEFAULT_LIMITS, ...options };
  const extractor = tar.extract();
  const tooBig = () =>
    refused(`inflates to more than ${maxTotalBytes} bytes, the most Kennel unpacks: make the model smaller, or raise the limit`, { maxTotalBytes });
  const feeding = feedParser(extractor, gunzipAtMost(bytes, maxTotalBytes, tooBig));

  const files = new Map<string, Uint8Array>();
  let entryCount = 0;
  try {
    for await (const entry of extractor) {
      const { header } = entry;
      if (++entryCount > maxEntries) throw refused(`holds more than ${maxEntries} entries, the most Kennel unpacks`, { maxEntries });
      if (header.type === 'directory') {
        entry.resume();
        continue;
      }
      if (!isFileEntry(header.type)) {
        throw refused(
          `entry ${JSON.stringify(header.name)} is a ${describeOtherEntry(header)}: a model archive may hold only regular files and folders. Archive the files themselves (tar --dereference).`,
          { name: header.name, type: header.type },
        );
      }
      const name = withoutDotSlash(header.name);
      const problem = entryNameProblem(name);
      if (problem !== undefined) throw refused(`entry name ${JSON.stringify(header.name)} ${problem}; refusing the archive`, { name: header.name });
      if (files.has(name)) throw refused(`holds ${JSON.stringify(name)} twice: which one is the model is ambiguous`, { name });
      if (options.only && !options.only.has(name)) {
        entry.resume();
        continue;
      }
      // The parser reads exactly the size the header gives, so checking it here bounds the content.
      if (header.size > maxEntryBytes) {
        throw refused(`entry ${JSON.stringify(name)} is ${header.size} bytes, over the limit of ${maxEntryBytes} per file`, { name, maxEntryBytes });
      }

      const chunks: Buffer[] = [];
      let read = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        read += chunk.byteLength;
        chunks.push(chunk);
      }
      files.set(name, concatenate(chunks, read));
    }
  } catch (error) {
    if (isDomainError(error)) throw error;
    throw refused(`data is not a valid gzip-compressed tar archive: ${formatReason(error)}. ${HOW_TO_MAKE}`);
  } finally {
    extractor.destroy();
    await feeding;
  }
  return files;
}
