import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { mapWithConcurrency } from '../../core/concurrency.ts';
import { describeError, DomainError } from '../../core/errors.ts';

export interface CopyLimits {
  maxFiles?: number;
  maxBytes?: number;
}

/** Copies at once: enough to keep the disk busy on a folder of many small images. */
const COPY_CONCURRENCY = 8;

/**
 * A byte-for-byte copy: a reflink where the filesystem can make one (btrfs, XFS),
 * a plain copy elsewhere. Never a hard link, which would let a script write
 * through to the original. An existing target is refused, not overwritten.
 */
export function copyRegularFile(source: string, target: string): Promise<void> {
  return copyFile(source, target, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
}

function refused(what: string, message: string): DomainError {
  return new DomainError('ValidationError', `${what}: ${message}`, {});
}

/**
 * Copies the folder `source` into `target` (created if needed), as `cp -rL`
 * would: symbolic links are followed, as Kennel reads data folders elsewhere.
 * The whole tree is listed and checked against the limits before anything is
 * copied. A dangling link, a link that loops back to a folder above it, and
 * anything that is neither a file nor a folder (FIFO, socket, device) are
 * refused, naming the path; `what` says whose folder it is in messages.
 */
export async function copyFolder(source: string, target: string, what: string, limits: CopyLimits = {}): Promise<{ files: number; bytes: number }> {
  const folders: string[] = [];
  const files: { relative: string; size: number }[] = [];
  let bytes = 0;

  const walk = async (relative: string, ancestors: ReadonlySet<string>): Promise<void> => {
    const absolute = join(source, relative);
    let names: string[];
    try {
      names = (await readdir(absolute)).sort();
    } catch (error) {
      throw refused(what, `${absolute} cannot be read as a folder (${describeError(error)})`);
    }
    for (const name of names) {
      const childRelative = relative === '' ? name : `${relative}/${name}`;
      const childAbsolute = join(source, childRelative);
      let info;
      try {
        info = await stat(childAbsolute);
      } catch (error) {
        throw refused(what, `${childAbsolute} cannot be read (${describeError(error)}); a dangling symbolic link is one cause`);
      }
      if (info.isDirectory()) {
        const real = await realpath(childAbsolute);
        if (ancestors.has(real)) throw refused(what, `${childAbsolute} links back to a folder that contains it, so copying it would never end`);
        folders.push(childRelative);
        await walk(childRelative, new Set([...ancestors, real]));
      } else if (info.isFile()) {
        files.push({ relative: childRelative, size: info.size });
        bytes += info.size;
        if (limits.maxFiles !== undefined && files.length > limits.maxFiles) {
          throw new DomainError('LimitExceeded', `${what}: ${source} holds more than ${limits.maxFiles} files, the most Kennel copies; leave out what the job does not need`, { maxFiles: limits.maxFiles });
        }
        if (limits.maxBytes !== undefined && bytes > limits.maxBytes) {
          throw new DomainError('LimitExceeded', `${what}: ${source} holds more than ${limits.maxBytes} bytes, the most Kennel copies; leave out what the job does not need`, { maxBytes: limits.maxBytes });
        }
      } else {
        throw refused(what, `${childAbsolute} is neither a file nor a folder (a FIFO, socket or device); remove it from the folder`);
      }
    }
  };

  let root: string;
  try {
    root = await realpath(source);
    if (!(await stat(root)).isDirectory()) throw new Error('not a folder');
  } catch (error) {
    throw refused(what, `${source} is not a folder that can be read (${describeError(error)})`);
  }
  await walk('', new Set([root]));

  await mkdir(target, { recursive: true });
  for (const folder of folders) await mkdir(join(target, folder), { recursive: true });
  await mapWithConcurrency(files, COPY_CONCURRENCY, async ({ relative }) => {
    try {
      await copyRegularFile(join(source, relative), join(target, relative));
    } catch (error) {
      throw refused(what, `${join(source, relative)} could not be copied (${describeError(error)})`);
    }
  });
  return { files: files.length, bytes };
}
