import { SPLITS, type Split } from './dataset.ts';

/**
 * Checks an image folder against the dogImages layout
 * `{train,valid,test}/<NNN.Class_name>/<image>` and says what is usable and what
 * is wrong with it. Pure: the runtime scanner lists the folder and decodes the
 * images; this file only judges the listing.
 */

export interface ListedFile {
  name: string;
  sizeBytes: number;
  /** Why the scanner could not use this image (corrupt, unsupported format, ...). */
  problem?: string;
}

export interface DatasetListing {
  files: ListedFile[];
  folders: ListedFolder[];
}

/** A folder's files and sub-folders; the scanner lists three levels: split, class, image. */
export interface ListedFolder extends DatasetListing {
  name: string;
}

export type ProblemSeverity = 'error' | 'warning';

export type LayoutProblemCode =
  | 'missing-split' // no train/, valid/ or test/ folder
  | 'empty-split' // a split folder without any usable image
  | 'no-classes' // no class folder anywhere
  | 'class-missing' // a class folder present in some splits but not this one
  | 'empty-class' // a class folder without any usable image
  | 'duplicate-label' // two class folders that read as the same label
  | 'stray-file' // a file where class folders belong
  | 'stray-folder' // a folder that is neither a split nor a class
  | 'non-image-file' // a file in a class folder that is not an image
  | 'unreadable-image'; // an image file that cannot be decoded

export interface LayoutProblem {
  severity: ProblemSeverity;
  code: LayoutProblemCode;
  /** Relative to the dataset folder, '/'-separated. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
}

export interface ClassSummary {
  /** Label index: position in the sorted class folder names. */
  index: number;
  folder: string;
  /** Human-readable name: `001.Red_circles` reads as `Red circles`. */
  label: string;
  counts: Record<Split, number>;
}

export interface LayoutReport {
  /** True when there is no error: the folder can be registered and trained on. */
  ok: boolean;
  classes: ClassSummary[];
  totals: Record<Split, number>;
  /** Errors first, then warnings. */
  problems: LayoutProblem[];
}

export interface LayoutImage {
  split: Split;
  classIndex: number;
  /** Relative to the dataset folder, '/'-separated. */
  relativePath: string;
}

export interface LayoutValidation {
  report: LayoutReport;
  /** Usable images, by split, then class index, then file name. */
  images: LayoutImage[];
}

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

/** Whether a file name claims to be an image the platform decodes (JPEG, PNG, WebP). */
export function isImageFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((extension) => lower.endsWith(extension));
}

/**
 * Hidden entries (.DS_Store, editor swap files, Kennel's own sample marker) are
 * not part of a dataset and not worth a warning.
 */
function isHidden(name: string): boolean {
  return name.startsWith('.');
}

/** `001.Red_circles` → `Red circles`; a name without the `NNN.` prefix is its own label. */
export function classLabel(folder: string): string {
  const numbered = /^\d+\.(.+)$/.exec(folder);
  return numbered ? numbered[1].replaceAll('_', ' ') : folder;
}

/**
 * Code-unit order, as Python's sorted() (torchvision's ImageFolder), so label
 * indices agree with models trained there; localeCompare would not.
 */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function zeroCounts(): Record<Split, number> {
  return { train: 0, valid: 0, test: 0 };
}

function isSplit(name: string): name is Split {
  return (SPLITS as readonly string[]).includes(name);
}

type ReportProblem = (severity: ProblemSeverity, code: LayoutProblemCode, path: string, message: string) => void;

export function validateLayout(listing: DatasetListing): LayoutValidation {
  const problems: LayoutProblem[] = [];
  const problem: ReportProblem = (severity, code, path, message) => problems.push({ severity, code, path, message });

  for (const file of listing.files.filter((f) => !isHidden(f.name))) {
    problem(
      'warning',
      'stray-file',
      file.name,
      `${file.name} is ignored: only the folders ${SPLITS.join(', ')} belong at the top level`,
    );
  }
  const splitFolders = new Map<Split, ListedFolder>();
  for (const folder of listing.folders.filter((f) => !isHidden(f.name))) {
    if (isSplit(folder.name)) splitFolders.set(folder.name, folder);
    else {
      problem(
        'warning',
        'stray-folder',
        folder.name,
        `folder ${folder.name}/ is ignored: split folders must be named ${SPLITS.join(', ')}`,
      );
    }
  }

  // Usable image names per split and class folder, after the per-file checks.
  const usable = new Map<Split, Map<string, string[]>>();
  for (const split of SPLITS) {
    const folder = splitFolders.get(split);
    if (!folder) {
      problem(
        'error',
        'missing-split',
        split,
        `split folder ${split}/ is missing: create it with one folder of images per class`,
      );
      continue;
    }
    usable.set(split, usableImagesOfSplit(folder, problem));
  }

  const classFolders = [...new Set([...usable.values()].flatMap((classes) => [...classes.keys()]))].sort(byCodeUnit);
  if (classFolders.length === 0) {
    const where = SPLITS.map((split) => `${split}/<NNN.Class_name>/`).join(', ');
    problem('error', 'no-classes', '', `no class folders found: put images in ${where}`);
  }

  const classes: ClassSummary[] = classFolders.map((folder, index) => ({
    index,
    folder,
    label: classLabel(folder),
    counts: zeroCounts(),
  }));
  const totals = zeroCounts();
  // Filled in split order, then class order, then sorted file names.
  const images: LayoutImage[] = [];
  for (const [split, byClass] of usable) {
    // Without train the class cannot be learnt; elsewhere it is only evaluated less.
    const severity: ProblemSeverity = split === 'train' ? 'error' : 'warning';
    for (const summary of classes) {
      const names = byClass.get(summary.folder);
      const path = `${split}/${summary.folder}`;
      if (!names) {
        problem(
          severity,
          'class-missing',
          path,
          `class ${summary.folder} has no folder in ${split}/: create ${path}/ with its images`,
        );
        continue;
      }
      if (names.length === 0) {
        problem(
          severity,
          'empty-class',
          path,
          `class folder ${path}/ has no usable images: add images or remove the folder from every split`,
        );
      }
      summary.counts[split] = names.length;
      totals[split] += names.length;
      for (const name of names) images.push({ split, classIndex: summary.index, relativePath: `${path}/${name}` });
    }
    if (totals[split] === 0 && classes.length > 0) {
      problem('error', 'empty-split', split, `split folder ${split}/ has no usable images: add images to its class folders`);
    }
  }

  const folderByLabel = new Map<string, string>();
  for (const { folder, label } of classes) {
    const earlier = folderByLabel.get(label);
    if (earlier !== undefined) {
      problem(
        'warning',
        'duplicate-label',
        folder,
        `class folders ${earlier} and ${folder} both read as label "${label}": rename one so predictions can be told apart`,
      );
    } else folderByLabel.set(label, folder);
  }

  const severityOrder: Record<ProblemSeverity, number> = { error: 0, warning: 1 };
  problems.sort((a, b) => severityOrder[a.severity] - severityOrder[b.severity]);
  return {
    report: { ok: !problems.some((p) => p.severity === 'error'), classes, totals, problems },
    images,
  };
}

/** Class folder name → usable image file names (sorted), reporting what is skipped and why. */
function usableImagesOfSplit(split: ListedFolder, problem: ReportProblem): Map<string, string[]> {
  for (const file of split.files.filter((f) => !isHidden(f.name))) {
    const path = `${split.name}/${file.name}`;
    problem(
      'warning',
      'stray-file',
      path,
      `${path} is ignored: images must be inside a class folder such as ${split.name}/001.Class_name/`,
    );
  }
  const byClass = new Map<string, string[]>();
  for (const classFolder of split.folders.filter((f) => !isHidden(f.name))) {
    const classPath = `${split.name}/${classFolder.name}`;
    for (const nested of classFolder.folders.filter((f) => !isHidden(f.name))) {
      const path = `${classPath}/${nested.name}`;
      problem(
        'warning',
        'stray-folder',
        path,
        `folder ${path}/ is ignored: images must sit directly in their class folder`,
      );
    }
    const names: string[] = [];
    for (const file of classFolder.files.filter((f) => !isHidden(f.name))) {
      const path = `${classPath}/${file.name}`;
      if (!isImageFileName(file.name)) {
        const expected = IMAGE_EXTENSIONS.join(', ');
        problem('warning', 'non-image-file', path, `${path} is skipped: not an image (expected ${expected})`);
      } else if (file.problem !== undefined) {
        problem('warning', 'unreadable-image', path, `${path} is skipped: ${file.problem}`);
      } else if (file.sizeBytes === 0) {
        problem('warning', 'unreadable-image', path, `${path} is skipped: the file is empty`);
      } else names.push(file.name);
    }
    byClass.set(classFolder.name, names.sort(byCodeUnit));
  }
  return byClass;
}
