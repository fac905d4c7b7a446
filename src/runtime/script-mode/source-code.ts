import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { describeError, DomainError, isDomainError } from '../../core/errors.ts';
import {
  describeOtherEntry,
  entryPathProblem,
  feedParser,
  gunzipAtMost,
  isFileEntry,
  isGzip,
  isZlibError,
  tarParserMessage,
  withoutDotSlash,
} from '../archives/tar-input.ts';
import { copyFolder } from './copy-folder.ts';

/**
 * The training code, as sagemaker_submit_directory names it: a folder on this
 * machine (file://), or the bytes of the sourcedir.tar.gz the SageMaker
 * Python SDK uploads.
 */
export type SourceCode = { kind: 'folder'; path: string } | { kind: 'tarball'; bytes: Uint8Array };

export interface SourceLimits {
  /** Files, folders not counted. */
  maxFiles?: number;
  /** Bytes of the files; for a tarball, of the whole uncompressed tar stream, which is what a gzip bomb would inflate. */
  maxBytes?: number;
}

const GIB = 1024 ** 3;
/** Room for a node_modules folder or a few checkpoints, not for a dataset packed in by mistake. */
const DEFAULT_LIMITS: Required<SourceLimits> = { maxFiles: 100_000, maxBytes: GIB };

const HOW_TO_MAKE = 'Make one with: tar czf sourcedir.tar.gz -C <source folder> .';

function refusal(label: string) {
  return (why: string, details: Record<string, unknown> = {}) => new DomainError('ValidationError', `${label} ${why}`, details);
}

const refused = refusal('sourcedir.tar.gz');

/**
 * Puts the training code into `codeDir` (which must exist and be empty). A
 * folder is copied; a tarball, gzip-compressed or not, is unpacked as hostile
 * input, the way model-archive.ts reads a model.tar.gz: only files and
 * folders, no links or devices, no absolute names or `..`, no name twice, and
 * the limits enforced while streaming. Files go straight to disk, so a big
 * source tree never sits in memory.
 */
export async function unpackSourceDir(source: SourceCode, codeDir: string, limits: SourceLimits = {}): Promise<void> {
  const { maxFiles, maxBytes } = { ...DEFAULT_LIMITS, ...limits };
  if (source.kind === 'folder') {
    await copyFolder(source.path, codeDir, 'The source folder (sagemaker_submit_directory)', { maxFiles, maxBytes });
    return;
  }
  await extractTar(source.bytes, codeDir, maxFiles, maxBytes, refused);
}

/**
 * Unpacks any (gzip-compressed) tar into `dir`, which must exist and be empty, with the checks
 * unpackSourceDir applies; `label` names the archive in errors ("model.tar.gz").
 */
export async function unpackArchiveInto(bytes: Uint8Array, dir: string, label: string, limits: SourceLimits = {}): Promise<void> {
  const { maxFiles, maxBytes } = { ...DEFAULT_LIMITS, ...limits };
  await extractTar(bytes, dir, maxFiles, maxBytes, refusal(label));
}

function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 262 && Buffer.from(bytes.buffer, bytes.byteOffset + 257, 5).toString('latin1') === 'ustar';
}

/** The tar stream in `bytes`, refused once it inflates past `maxBytes`. */
async function* tarStream(bytes: Uint8Array, maxBytes: number, refused: Refusal): AsyncGenerator<Buffer> {
  const tooBig = () => refused(`inflates to more than ${maxBytes} bytes, the most Kennel unpacks: leave data and checkpoints out of it`, { maxBytes });
  if (isGzip(bytes)) {
    yield* gunzipAtMost(bytes, maxBytes, tooBig);
    return;
  }
  if (bytes.byteLength > maxBytes) throw tooBig();
  yield Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** An entry's name as a path inside the code folder, or why it cannot be one. */
function entryPath(rawName: string): { name: string } | { problem: string } {
  const name = withoutDotSlash(rawName).replace(/\/+$/, '');
  if (name === '' || name === '.') return { name: '' };
  const problem = entryPathProblem(name, 'the code folder');
  return problem === undefined ? { name } : { problem };
}

type Refusal = ReturnType<typeof refusal>;

async function extractTar(bytes: Uint8Array, codeDir: string, maxFiles: number, maxBytes: number, refused: Refusal): Promise<void> {
  if (!isGzip(bytes) && !isTar(bytes)) {
    throw refused(`is neither a gzip-compressed tar nor a tar archive (only gzip compression is read). ${HOW_TO_MAKE}`);
  }
  const extractor = tar.extract();
  const feeding = feedParser(extractor, tarStream(bytes, maxBytes, refused));

  const seen = new Set<string>();
  let files = 0;
  try {
    for await (const entry of extractor) {
      const { header } = entry;
      const path = entryPath(header.name);
      if ('problem' in path) throw refused(`entry name ${JSON.stringify(header.name)} ${path.problem}; refusing the archive`, { name: header.name });
      const { name } = path;
      if (header.type === 'directory') {
        entry.resume();
        if (name !== '') await mkdir(join(codeDir, name), { recursive: true });
        continue;
      }
      if (!isFileEntry(header.type)) {
        throw refused(`entry ${JSON.stringify(header.name)} is a ${describeOtherEntry(header)}: it may hold only files and folders. Archive the files themselves (tar --dereference).`, {
          name: header.name,
          type: header.type,
        });
      }
      if (name === '') throw refused(`holds a file with no name (${JSON.stringify(header.name)})`, { name: header.name });
      if (seen.has(name)) throw refused(`holds ${JSON.stringify(name)} twice: which one is the code is ambiguous`, { name });
      seen.add(name);
      if (++files > maxFiles) throw refused(`holds more than ${maxFiles} files, the most Kennel unpacks`, { maxFiles });
      const slash = name.lastIndexOf('/');
      if (slash !== -1) await mkdir(join(codeDir, name.slice(0, slash)), { recursive: true });
      // Executable bits are kept, so a helper script the entry point runs still runs.
      const handle = await open(join(codeDir, name), 'wx', ((header.mode ?? 0o644) & 0o111) !== 0 ? 0o755 : 0o644);
      try {
        for await (const chunk of entry as AsyncIterable<Buffer>) await handle.write(chunk);
      } finally {
        await handle.close();
      }
    }
  } catch (error) {
    if (isDomainError(error)) throw error;
    if (isZlibError(error)) throw refused(`is not valid gzip data (${describeError(error)}). ${HOW_TO_MAKE}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E')) throw refused(`could not be unpacked into ${codeDir} (${describeError(error)})`);
    throw refused(`is not a valid tar archive (${tarParserMessage(error)}). ${HOW_TO_MAKE}`);
  } finally {
    extractor.destroy();
    await feeding;
  }
}

/**
 * The entry point's absolute path, once the code is in `codeDir`: a file
 * must be there by that name. When it is not, the message lists what the top
 * of the code folder holds, which is usually enough to see the slip.
 */
export async function locateProgram(codeDir: string, program: string): Promise<string> {
  const path = join(codeDir, program);
  try {
    if ((await stat(path)).isFile()) return path;
  } catch {
    // Reported below with what is there instead.
  }
  const names = (await readdir(codeDir)).sort();
  const listing = names.length === 0 ? 'it is empty' : `its top level holds ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''}`;
  throw new DomainError(
    'ValidationError',
    `HyperParameters.sagemaker_program ${JSON.stringify(program)} is not a file in the source code (sagemaker_submit_directory): ${listing}. Name the entry point relative to the source folder`,
    { field: 'HyperParameters.sagemaker_program' },
  );
}
