import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { DomainError } from '../../core/errors.ts';
import { packModelArchive } from '../models/model-archive.ts';

export interface ModelDirLimits {
  maxFiles?: number;
  /** Bytes of the files together: packing holds them, the tar and the gzip in memory at once. */
  maxBytes?: number;
  /** What the folder is, in errors. */
  label?: string;
}

export interface PackedModelDir {
  /** model.tar.gz of the folder, names relative to it. */
  archive: Uint8Array;
  /** What went in, sorted. */
  files: string[];
  /** What the script left in the folder that is not a file of it, and why it was left out: worth a line in the job log. */
  skipped: { path: string; reason: string }[];
}

const GIB = 1024 ** 3;
const DEFAULT_LIMITS: Required<ModelDirLimits> = { maxFiles: 10_000, maxBytes: GIB, label: 'The model folder (SM_MODEL_DIR)' };

/**
 * model.tar.gz of everything the script wrote to SM_MODEL_DIR, as SageMaker
 * uploads it when the script exits 0. Regular files only; a symbolic link is
 * packed as the file it points to when that file is inside the folder (a
 * `latest.pth` link to the last checkpoint, say), and left out otherwise, so
 * a script cannot pack a file from elsewhere on the machine by linking to it.
 * Sizes are checked before anything is read.
 */
export async function packModelDir(modelDir: string, limits: ModelDirLimits = {}): Promise<PackedModelDir> {
  const { maxFiles, maxBytes, label } = { ...DEFAULT_LIMITS, ...limits };
  const root = await realpath(modelDir);
  const inside = (path: string) => path.startsWith(root + sep);
  const found: { name: string; path: string }[] = [];
  const skipped: PackedModelDir['skipped'] = [];
  let bytes = 0;

  const add = (name: string, path: string, size: number) => {
    found.push({ name, path });
    bytes += size;
    if (found.length > maxFiles) {
      throw new DomainError('LimitExceeded', `${label} holds more than ${maxFiles} files, the most Kennel packs into one archive: save fewer, larger files`, { maxFiles });
    }
    if (bytes > maxBytes) {
      throw new DomainError('LimitExceeded', `${label} holds more than ${maxBytes} bytes, the most Kennel packs into one archive: keep only what the model needs to serve`, { maxBytes });
    }
  };

  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(join(root, relative))).sort()) {
      const entryName = relative === '' ? name : `${relative}/${name}`;
      const path = join(root, entryName);
      const info = await lstat(path);
      if (info.isDirectory()) {
        await walk(entryName);
      } else if (info.isFile()) {
        add(entryName, path, info.size);
      } else if (info.isSymbolicLink()) {
        const target = await realpath(path).catch(() => undefined);
        const targetInfo = target === undefined ? undefined : await stat(target);
        if (target === undefined || targetInfo === undefined) skipped.push({ path: entryName, reason: 'a symbolic link to nothing' });
        else if (!inside(target)) skipped.push({ path: entryName, reason: `a symbolic link to ${target}, outside the model folder` });
        else if (!targetInfo.isFile()) skipped.push({ path: entryName, reason: 'a symbolic link to something other than a file' });
        else add(entryName, target, targetInfo.size);
      } else {
        skipped.push({ path: entryName, reason: 'neither a file nor a folder' });
      }
    }
  };
  await walk('');

  const files = new Map<string, Uint8Array>();
  for (const { name, path } of found) files.set(name, await readFile(path));
  return { archive: await packModelArchive(files), files: found.map(({ name }) => name), skipped };
}
