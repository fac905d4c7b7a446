import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { mapWithConcurrency } from '../../core/concurrency.ts';
import { DomainError, describeError } from '../../core/errors.ts';
import { SPLITS, type Split } from '../../domain/data/dataset.ts';
import {
  isImageFileName,
  validateLayout,
  type DatasetListing,
  type LayoutReport,
  type ListedFile,
  type ListedFolder,
} from '../../domain/data/layout.ts';
import { probeImage } from '../images/preprocess.ts';
import { folderTree, type DataTree } from './data-tree.ts';

export interface DatasetImage {
  /** Absolute path of the image file. */
  path: string;
  /** Where the image is, as the user named it: the same path, or an s3:// URI. */
  name: string;
  classIndex: number;
  split: Split;
}

export interface DatasetScan {
  /** Absolute path of the dataset folder (or the URI of the tree scanned). */
  path: string;
  report: LayoutReport;
  /** Usable images, by split, then class index, then file name. */
  images: DatasetImage[];
}

/**
 * Images decoded at once. Decoding runs on libuv's thread pool (4 threads by
 * default); a few more in flight keep it busy while files are read, and a
 * bound keeps memory flat on folders of thousands of images.
 */
const PROBE_CONCURRENCY = 8;

export interface ScanOptions {
  /**
   * Decode every image (default). Registration does, so a corrupt file is found
   * then; a training job only lists the registered folder, since decoding all
   * images again would cost each tuning trial seconds on a large set.
   */
  decodeImages?: boolean;
}

/**
 * Lists a dataset folder, decodes every image the way training will (unless
 * told not to) and judges the layout with the domain validator.
 */
export async function scanDataset(path: string, options: ScanOptions = {}): Promise<DatasetScan> {
  const root = resolve(path);
  await assertDirectory(root);
  return scanDataTree(folderTree(root), options);
}

/** The same for any tree of images: objects under an s3:// prefix, or one tree per split. */
export async function scanDataTree(tree: DataTree, options: ScanOptions = {}): Promise<DatasetScan> {
  const listing = await listDataset(tree, options.decodeImages ?? true);
  const { report, images } = validateLayout(listing);
  return {
    path: tree.description,
    report,
    images: images.map((image) => ({
      path: tree.path(image.relativePath),
      name: tree.name(image.relativePath),
      classIndex: image.classIndex,
      split: image.split,
    })),
  };
}

async function assertDirectory(root: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${describeError(error)})`;
    throw new DomainError('ValidationError', `dataset folder ${root} ${reason}`, { field: 'path' });
  }
  if (!isDirectory) {
    throw new DomainError(
      'ValidationError',
      `dataset path ${root} is not a folder: give the folder that holds ${SPLITS.join('/, ')}/`,
      { field: 'path' },
    );
  }
}

/** Root files and folders; split folders down to their class folders' files. */
async function listDataset(tree: DataTree, decodeImages: boolean): Promise<DatasetListing> {
  const top = await tree.list('');
  const probes: (() => Promise<void>)[] = [];
  const folders = await Promise.all(
    top.folders.map(async (name): Promise<ListedFolder> => {
      if (!(SPLITS as readonly string[]).includes(name)) return { name, files: [], folders: [] };
      const split = await tree.list(name);
      const classes = await Promise.all(
        split.folders.map(async (className): Promise<ListedFolder> => {
          const classDir = `${name}/${className}`;
          const content = await tree.list(classDir);
          for (const file of content.files) {
            if (decodeImages && isImageFileName(file.name) && file.sizeBytes > 0 && file.problem === undefined) {
              probes.push(() => probe(tree.path(`${classDir}/${file.name}`), file));
            }
          }
          return {
            name: className,
            files: content.files,
            folders: content.folders.map((nested) => ({ name: nested, files: [], folders: [] })),
          };
        }),
      );
      return { name, files: split.files, folders: classes };
    }),
  );
  await mapWithConcurrency(probes, PROBE_CONCURRENCY, (run) => run());
  return { files: top.files, folders };
}

/** Records on the listed file why it cannot be used, if it cannot. */
async function probe(path: string, file: ListedFile): Promise<void> {
  try {
    await probeImage(await readFile(path));
  } catch (error) {
    file.problem = describeError(error);
  }
}
