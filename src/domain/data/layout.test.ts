import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classLabel,
  isImageFileName,
  validateLayout,
  type DatasetListing,
  type ListedFile,
  type ListedFolder,
} from './layout.ts';

/** A listing from a compact description: split → class folder → file names (or files). */
type Tree = Record<string, Record<string, (string | ListedFile)[]>>;

interface Extra {
  rootFiles?: string[];
  splitFiles?: Record<string, string[]>;
}

function listing(tree: Tree, extra: Extra = {}): DatasetListing {
  const file = (entry: string | ListedFile): ListedFile =>
    typeof entry === 'string' ? { name: entry, sizeBytes: 100 } : entry;
  const folders: ListedFolder[] = Object.entries(tree).map(([split, classes]) => ({
    name: split,
    files: (extra.splitFiles?.[split] ?? []).map(file),
    folders: Object.entries(classes).map(([name, files]) => ({ name, files: files.map(file), folders: [] })),
  }));
  return { files: (extra.rootFiles ?? []).map(file), folders };
}

/** A healthy two-class set to break in each case. */
function healthy(): Tree {
  return {
    train: { '001.Red_circles': ['a.jpg', 'b.jpg'], '002.Blue_squares': ['c.jpg', 'd.png'] },
    valid: { '001.Red_circles': ['e.jpg'], '002.Blue_squares': ['f.webp'] },
    test: { '001.Red_circles': ['g.jpg'], '002.Blue_squares': ['h.JPEG'] },
  };
}

test('a healthy layout: classes in folder order, labels, counts, images', () => {
  const { report, images } = validateLayout(listing(healthy()));
  assert.equal(report.ok, true);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.classes, [
    { index: 0, folder: '001.Red_circles', label: 'Red circles', counts: { train: 2, valid: 1, test: 1 } },
    { index: 1, folder: '002.Blue_squares', label: 'Blue squares', counts: { train: 2, valid: 1, test: 1 } },
  ]);
  assert.deepEqual(report.totals, { train: 4, valid: 2, test: 2 });
  assert.deepEqual(images.slice(0, 3), [
    { split: 'train', classIndex: 0, relativePath: 'train/001.Red_circles/a.jpg' },
    { split: 'train', classIndex: 0, relativePath: 'train/001.Red_circles/b.jpg' },
    { split: 'train', classIndex: 1, relativePath: 'train/002.Blue_squares/c.jpg' },
  ]);
  assert.deepEqual(
    images.map((image) => image.split),
    ['train', 'train', 'train', 'train', 'valid', 'valid', 'test', 'test'],
  );
});

test('label order is code-unit order of folder names, as torchvision sorts them', () => {
  const tree: Tree = { train: {}, valid: {}, test: {} };
  for (const split of Object.keys(tree)) {
    for (const name of ['b_class', 'B_class', '10.Ten', '002.Two', 'a']) tree[split][name] = ['x.jpg'];
  }
  const { report } = validateLayout(listing(tree));
  assert.deepEqual(
    report.classes.map((c) => [c.folder, c.label]),
    [
      ['002.Two', 'Two'],
      ['10.Ten', 'Ten'],
      ['B_class', 'B_class'],
      ['a', 'a'],
      ['b_class', 'b_class'],
    ],
  );
});

test('class labels', () => {
  assert.equal(classLabel('001.Affenpinscher'), 'Affenpinscher');
  assert.equal(classLabel('042.Cavalier_king_charles_spaniel'), 'Cavalier king charles spaniel');
  assert.equal(classLabel('golden_retriever'), 'golden_retriever');
  assert.equal(classLabel('v1.2'), 'v1.2');
  assert.equal(isImageFileName('A.JPG'), true);
  assert.equal(isImageFileName('notes.txt'), false);
  assert.equal(isImageFileName('jpg'), false);
});

interface BrokenCase {
  name: string;
  listing: DatasetListing;
  ok: boolean;
  /** Every problem, as "severity code path". */
  problems: string[];
  totals?: { train: number; valid: number; test: number };
  classes?: string[];
}

function broken(edit: (tree: Tree) => void, extra?: Extra): DatasetListing {
  const tree = healthy();
  edit(tree);
  return listing(tree, extra);
}

const cases: BrokenCase[] = [
  {
    name: 'no train split',
    listing: broken((t) => delete t.train),
    ok: false,
    problems: ['error missing-split train'],
    totals: { train: 0, valid: 2, test: 2 },
  },
  {
    name: 'no valid and no test split',
    listing: broken((t) => {
      delete t.valid;
      delete t.test;
    }),
    ok: false,
    problems: ['error missing-split valid', 'error missing-split test'],
  },
  {
    name: 'an empty folder',
    listing: { files: [], folders: [] },
    ok: false,
    problems: [
      'error missing-split train',
      'error missing-split valid',
      'error missing-split test',
      'error no-classes ',
    ],
    classes: [],
  },
  {
    name: 'split folders without class folders',
    listing: listing({ train: {}, valid: {}, test: {} }),
    ok: false,
    problems: ['error no-classes '],
  },
  {
    name: 'images directly in the split folders (a flat layout)',
    listing: listing({ train: {}, valid: {}, test: {} }, { splitFiles: { train: ['a.jpg'] } }),
    ok: false,
    problems: ['error no-classes ', 'warning stray-file train/a.jpg'],
  },
  {
    name: 'a class missing from train',
    listing: broken((t) => delete t.train['002.Blue_squares']),
    ok: false,
    problems: ['error class-missing train/002.Blue_squares'],
    totals: { train: 2, valid: 2, test: 2 },
  },
  {
    name: 'a class only in train',
    listing: broken((t) => (t.train['003.Green_triangles'] = ['x.jpg'])),
    ok: true,
    problems: ['warning class-missing valid/003.Green_triangles', 'warning class-missing test/003.Green_triangles'],
    classes: ['001.Red_circles', '002.Blue_squares', '003.Green_triangles'],
  },
  {
    name: 'an empty class folder in train',
    listing: broken((t) => (t.train['002.Blue_squares'] = [])),
    ok: false,
    problems: ['error empty-class train/002.Blue_squares'],
    totals: { train: 2, valid: 2, test: 2 },
  },
  {
    name: 'an empty class folder in test',
    listing: broken((t) => (t.test['002.Blue_squares'] = [])),
    ok: true,
    problems: ['warning empty-class test/002.Blue_squares'],
    totals: { train: 4, valid: 2, test: 1 },
  },
  {
    name: 'a split whose images are all unreadable',
    listing: broken((t) => {
      t.valid['001.Red_circles'] = [{ name: 'e.jpg', sizeBytes: 10, problem: 'VipsJpeg: premature end of JPEG image' }];
      t.valid['002.Blue_squares'] = ['notes.txt'];
    }),
    ok: false,
    problems: [
      'error empty-split valid',
      'warning unreadable-image valid/001.Red_circles/e.jpg',
      'warning non-image-file valid/002.Blue_squares/notes.txt',
      'warning empty-class valid/001.Red_circles',
      'warning empty-class valid/002.Blue_squares',
    ],
  },
  {
    name: 'non-image, empty and corrupt files are skipped with warnings',
    listing: broken((t) => {
      t.train['001.Red_circles'].push(
        'notes.txt',
        { name: 'zero.jpg', sizeBytes: 0 },
        { name: 'bad.jpg', sizeBytes: 10, problem: 'unsupported format (expected JPEG, PNG or WebP)' },
      );
    }),
    ok: true,
    problems: [
      'warning non-image-file train/001.Red_circles/notes.txt',
      'warning unreadable-image train/001.Red_circles/zero.jpg',
      'warning unreadable-image train/001.Red_circles/bad.jpg',
    ],
    totals: { train: 4, valid: 2, test: 2 },
  },
  {
    name: 'stray files and folders at the wrong level',
    listing: (() => {
      const l = broken(() => {}, { rootFiles: ['README.md'], splitFiles: { test: ['loose.jpg'] } });
      l.folders.push({ name: 'val', files: [], folders: [] });
      l.folders[0].folders[0].folders.push({ name: 'more', files: [{ name: 'z.jpg', sizeBytes: 5 }], folders: [] });
      return l;
    })(),
    ok: true,
    problems: [
      'warning stray-file README.md',
      'warning stray-folder val',
      'warning stray-folder train/001.Red_circles/more',
      'warning stray-file test/loose.jpg',
    ],
    totals: { train: 4, valid: 2, test: 2 },
  },
  {
    name: 'hidden files and folders are ignored silently',
    listing: (() => {
      const l = broken((t) => t.train['001.Red_circles'].push('.DS_Store'), { rootFiles: ['.kennel-sample.json'] });
      l.folders.push({ name: '.cache', files: [], folders: [] });
      l.folders[0].folders.push({ name: '.ipynb_checkpoints', files: [], folders: [] });
      return l;
    })(),
    ok: true,
    problems: [],
    classes: ['001.Red_circles', '002.Blue_squares'],
  },
  {
    name: 'two folders with the same label',
    listing: broken((t) => {
      for (const split of ['train', 'valid', 'test']) t[split]['003.Red_circles'] = ['z.jpg'];
    }),
    ok: true,
    problems: ['warning duplicate-label 003.Red_circles'],
  },
];

for (const c of cases) {
  test(`broken layout: ${c.name}`, () => {
    const { report, images } = validateLayout(c.listing);
    assert.equal(report.ok, c.ok);
    assert.deepEqual(
      report.problems.map((p) => `${p.severity} ${p.code} ${p.path}`),
      c.problems,
    );
    for (const p of report.problems) assert.ok(p.message.length > 20, `"${p.message}" explains itself`);
    if (c.totals) assert.deepEqual(report.totals, c.totals);
    if (c.classes) assert.deepEqual(report.classes.map((entry) => entry.folder), c.classes);
    // Whatever is broken, the usable images are exactly what the counts say.
    assert.equal(images.length, report.totals.train + report.totals.valid + report.totals.test);
    for (const image of images) {
      assert.ok(image.relativePath.startsWith(`${image.split}/${report.classes[image.classIndex].folder}/`));
    }
  });
}

test('skipped files never appear among the usable images', () => {
  const { images } = validateLayout(
    broken((t) => t.train['001.Red_circles'].push('notes.txt', { name: 'bad.jpg', sizeBytes: 3, problem: 'corrupt' })),
  );
  const paths = images.map((image) => image.relativePath);
  assert.ok(!paths.some((path) => path.endsWith('notes.txt') || path.endsWith('bad.jpg')));
  assert.ok(paths.includes('train/001.Red_circles/a.jpg'));
});
