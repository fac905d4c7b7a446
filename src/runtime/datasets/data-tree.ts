import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, DomainError } from '../../core/errors.ts';
import type { ListedFile } from '../../domain/data/layout.ts';

/**
 * A read-only tree of image files, whatever holds it: a folder on disk, the
 * objects under an s3:// prefix, or one such tree per split. The scanner lists
 * it and the embedder reads its files by path.
 */
export interface DataTree {
  /** What the tree is, for messages: a folder path or an s3:// URI. */
  readonly description: string;
  /** Files and sub-folders of `dir` ('' is the root; '/'-separated). */
  list(dir: string): Promise<{ files: ListedFile[]; folders: string[] }>;
  /** A path on disk holding the file's bytes. */
  path(file: string): string;
  /** The file as the user would name it, for messages: its path or its s3:// URI. */
  name(file: string): string;
}

/** A folder on disk. Symlinks are followed; an entry that cannot be read is a file with a problem. */
export function folderTree(root: string): DataTree {
  return {
    description: root,
    async list(dir) {
      const absolute = join(root, ...split(dir));
      let names: string[];
      try {
        names = await readdir(absolute);
      } catch (error) {
        throw new DomainError('ValidationError', `folder ${absolute} cannot be read (${describeError(error)})`, { field: 'path' });
      }
      const files: ListedFile[] = [];
      const folders: string[] = [];
      await Promise.all(
        names.map(async (name) => {
          try {
            const info = await stat(join(absolute, name));
            if (info.isDirectory()) folders.push(name);
            else files.push({ name, sizeBytes: info.size });
          } catch (error) {
            files.push({ name, sizeBytes: 0, problem: `cannot be read (${describeError(error)})` });
          }
        }),
      );
      // Entries arrive in stat completion order; sorting keeps reports repeatable.
      files.sort((a, b) => compare(a.name, b.name));
      return { files, folders: folders.sort(compare) };
    },
    path: (file) => join(root, ...split(file)),
    name: (file) => join(root, ...split(file)),
  };
}

/** A file of an object tree: its key below the tree's prefix, its size, and where its bytes are. */
export interface TreeObject {
  relativeKey: string;
  sizeBytes: number;
  path: string;
}

/** The objects under a prefix, read as folders split at '/'. */
export function objectTree(description: string, objects: readonly TreeObject[]): DataTree {
  const byKey = new Map(objects.map((object) => [object.relativeKey, object]));
  return {
    description,
    async list(dir) {
      const prefix = dir === '' ? '' : `${dir}/`;
      const files: ListedFile[] = [];
      const folders = new Set<string>();
      for (const object of objects) {
        if (!object.relativeKey.startsWith(prefix)) continue;
        const rest = object.relativeKey.slice(prefix.length);
        const slash = rest.indexOf('/');
        if (slash === -1) {
          if (rest !== '') files.push({ name: rest, sizeBytes: object.sizeBytes });
        } else if (slash > 0) {
          folders.add(rest.slice(0, slash));
        }
      }
      return { files: files.sort((a, b) => compare(a.name, b.name)), folders: [...folders].sort(compare) };
    },
    path(file) {
      const object = byKey.get(file);
      if (!object) throw new DomainError('NotFound', `${description}/${file} does not exist`);
      return object.path;
    },
    name: (file) => `${description.replace(/\/$/, '')}/${file}`,
  };
}

/** A root whose folders are the given trees: how one channel per split reads as the dogImages layout. */
export function unionTree(description: string, children: Readonly<Record<string, DataTree>>): DataTree {
  const route = (path: string): { child: DataTree; rest: string } => {
    const [head, ...rest] = split(path);
    const child = children[head];
    if (!child) throw new DomainError('NotFound', `${description}: no folder ${head}`);
    return { child, rest: rest.join('/') };
  };
  return {
    description,
    async list(dir) {
      if (dir === '') return { files: [], folders: Object.keys(children).sort(compare) };
      const { child, rest } = route(dir);
      return child.list(rest);
    },
    path(file) {
      const { child, rest } = route(file);
      return child.path(rest);
    },
    name(file) {
      const { child, rest } = route(file);
      return child.name(rest);
    },
  };
}

function split(path: string): string[] {
  return path === '' ? [] : path.split('/');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
