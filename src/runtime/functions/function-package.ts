import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { DomainError } from '../../core/errors.ts';

/** What a deployment package holds, read from its central directory before anything is stored. */
export interface PackageSummary {
  sha256Hex: string;
  sha256Base64: string;
  sizeBytes: number;
  unzippedBytes: number;
  entries: number;
}

const UNZIP_REFUSED = 'Could not unzip uploaded file. Please check your file, then try to upload again.';

function openZip(zip: Uint8Array): Promise<yauzl.ZipFile> {
  return new Promise((resolvePromise, reject) => {
    // validateEntrySizes makes a member that inflates past its declared size an error, so the declared sizes can be trusted.
    yauzl.fromBuffer(Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength), { lazyEntries: true, validateEntrySizes: true }, (error, file) =>
      error || !file ? reject(new DomainError('ValidationError', UNZIP_REFUSED, { reason: error?.message })) : resolvePromise(file),
    );
  });
}

function isSymlink(entry: yauzl.Entry): boolean {
  return ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000;
}

/** Walks every entry of the archive in order; `visit` may read the entry before the next one is read. */
async function eachEntry(zip: yauzl.ZipFile, visit: (entry: yauzl.Entry) => Promise<void>): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    zip.on('error', (error: Error) => reject(new DomainError('ValidationError', UNZIP_REFUSED, { reason: error.message })));
    zip.on('end', () => resolvePromise());
    zip.on('entry', (entry: yauzl.Entry) => {
      visit(entry).then(() => zip.readEntry(), (error: unknown) => {
        zip.close();
        reject(error);
      });
    });
    zip.readEntry();
  });
}

/**
 * Checks a zip as Lambda does before taking it: it must open as a zip, and
 * unpack to at most `maxUnzippedBytes`. Entry names that are absolute or climb
 * out with `..` are refused by yauzl itself.
 */
export async function inspectPackage(zip: Uint8Array, maxUnzippedBytes: number): Promise<PackageSummary> {
  const file = await openZip(zip);
  let unzippedBytes = 0;
  let entries = 0;
  await eachEntry(file, async (entry) => {
    entries++;
    unzippedBytes += entry.uncompressedSize;
  });
  if (entries === 0) throw new DomainError('ValidationError', 'Uploaded file must be a non-empty zip', { reason: 'the archive is empty' });
  if (unzippedBytes > maxUnzippedBytes) {
    throw new DomainError('ValidationError', `Unzipped size must be smaller than ${maxUnzippedBytes} bytes`, { unzippedBytes });
  }
  const hash = createHash('sha256').update(zip).digest();
  return { sha256Hex: hash.toString('hex'), sha256Base64: hash.toString('base64'), sizeBytes: zip.byteLength, unzippedBytes, entries };
}

function readEntryStream(file: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolvePromise, reject) => file.openReadStream(entry, (error, stream) => (error || !stream ? reject(error) : resolvePromise(stream))));
}

async function readSymlinkTarget(file: yauzl.ZipFile, entry: yauzl.Entry): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await readEntryStream(file, entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Unpacks the zip into `dir`, which must not exist yet: into a fresh sibling
 * first, renamed into place once complete, so a crash never leaves a
 * half-unpacked package where a function would run it. File modes (the
 * executable bit) are kept. Nothing is ever written through a symlink: an
 * entry at or under a path the archive made a symlink is refused, and files
 * are created exclusively, so links (even chained ones) cannot carry a write
 * out of the package. A link that points outside the package is refused too;
 * reading through one that does by a longer way is the sandbox's to refuse.
 */
export async function unpackPackage(zip: Uint8Array, dir: string): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const staging = await mkdtemp(`${dir}.unpacking-`);
  const links = new Set<string>();
  const underLink = (name: string) => {
    const parts = name.replace(/\/$/, '').split('/');
    return parts.some((_, index) => links.has(parts.slice(0, index + 1).join('/')));
  };
  try {
    const file = await openZip(zip);
    await eachEntry(file, async (entry) => {
      if (underLink(entry.fileName)) {
        throw new DomainError('ValidationError', `The package's entry ${entry.fileName} lies under one of its symlinks; a package's files must be its own`, { entry: entry.fileName });
      }
      const target = join(staging, entry.fileName);
      if (entry.fileName.endsWith('/')) {
        await mkdir(target, { recursive: true });
        return;
      }
      await mkdir(dirname(target), { recursive: true });
      if (isSymlink(entry)) {
        const link = await readSymlinkTarget(file, entry);
        const pointsTo = resolve(dirname(target), link);
        if (isAbsolute(link) || relative(staging, pointsTo).split(sep)[0] === '..') {
          throw new DomainError('ValidationError', `The package's symlink ${entry.fileName} points outside the package (${link})`, { entry: entry.fileName });
        }
        await symlink(link, target);
        links.add(entry.fileName);
        return;
      }
      const mode = (entry.externalFileAttributes >>> 16) & 0o777;
      await pipeline(await readEntryStream(file, entry), createWriteStream(target, { flags: 'wx', mode: mode & 0o111 ? 0o755 : 0o644 }));
    });
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === 'EEXIST' && !(await stat(dir).then(() => true, () => false))) {
      throw new DomainError('ValidationError', 'The package names one file twice, or a file where a symlink is', {});
    }
    throw error;
  }
}

/** The unpacked package at `dir`, unpacking `zip` there first when it is not yet: code dirs are shared by every version with that code. */
export async function ensureUnpacked(dir: string, zip: () => Promise<Uint8Array>): Promise<string> {
  const present = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (present) return dir;
  try {
    await unpackPackage(await zip(), dir);
  } catch (error) {
    // Another unpack of the same code finished first: its copy is as good.
    if ((error as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (error as NodeJS.ErrnoException).code === 'EEXIST') return dir;
    throw error;
  }
  return dir;
}

/** 1980-01-01 00:00, the earliest DOS date, in whatever time zone the zip is made: DOS dates carry no zone. */
const FIXED_DATE = { mtime: new Date(1980, 0, 1), forceDosTimestamp: true };

/**
 * A deployment package of every file under `dir` (as `zip -r` from inside it
 * would make), for the CLI and for tests. Modes are kept, so executables stay
 * executable; symlinks are followed. Every entry has the same date, so the same
 * files make the same package (and CodeSha256) after a checkout or a copy.
 */
export async function zipFolder(dir: string): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(folder, entry.name);
      const info = await stat(path);
      if (info.isDirectory()) await walk(path);
      else if (info.isFile()) archive.addFile(path, relative(dir, path).split(sep).join('/'), { mode: info.mode & 0o777, ...FIXED_DATE });
    }
  };
  await walk(dir);
  archive.end();
  const chunks: Buffer[] = [];
  for await (const chunk of archive.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The deployment package at `path`: a .zip as it is, or a folder zipped as `zip -r` would; undefined when nothing is there. */
export async function readPackage(path: string): Promise<Uint8Array | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  return info.isDirectory() ? zipFolder(path) : readFile(path);
}

/** A package of the given files (name → content), for tests and examples. */
export async function zipFiles(files: Readonly<Record<string, string | Uint8Array>>): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) archive.addBuffer(Buffer.from(content), name, { mode: 0o644 });
  archive.end();
  const chunks: Buffer[] = [];
  for await (const chunk of archive.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
