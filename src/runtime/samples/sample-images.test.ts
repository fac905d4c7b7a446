import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { isDomainError } from '../../core/errors.ts';
import { scanDataset } from '../datasets/scan.ts';
import { generateSampleImages, SAMPLE_CLASSES, SAMPLE_MARKER_FILE, sampleJpeg, type SampleImageOptions } from './sample-images.ts';

const SMALL: SampleImageOptions = { seed: 7, classes: 3, perClass: { train: 3, valid: 2, test: 1 }, size: 48 };

async function tempParent(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kennel-samples-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Relative path → bytes, for every file under `root`. */
async function snapshot(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(path.slice(root.length + 1), await readFile(path));
    }
  }
  return files;
}

test('writes the dogImages layout, which the dataset scanner accepts without a problem', async (t) => {
  const parent = await tempParent(t);
  const target = join(parent, 'images');
  const progress: number[] = [];
  const onProgress = (done: number, total: number) => progress.push(done / total);
  const result = await generateSampleImages(target, { ...SMALL, onProgress });

  assert.deepEqual(result, {
    classes: ['001.Red_circles', '002.Blue_squares', '003.Green_triangles'],
    counts: { train: 9, valid: 6, test: 3 },
  });
  assert.deepEqual(await readdir(join(target, 'valid', '002.Blue_squares')), [
    'Blue_squares_00004.jpg',
    'Blue_squares_00005.jpg',
  ]);
  assert.deepEqual(await readdir(join(target, 'test', '001.Red_circles')), ['Red_circles_00006.jpg']);
  assert.equal(progress.length, 18);
  assert.equal(progress.at(-1), 1);
  assert.deepEqual(await readdir(parent), ['images'], 'no temporary folder left behind');
  const mode = async (path: string) => (await stat(path)).mode & 0o777;
  assert.equal(await mode(target), await mode(join(target, 'train')), 'the set gets the usual folder mode');

  const marker = JSON.parse(await readFile(join(target, SAMPLE_MARKER_FILE), 'utf8'));
  assert.equal(marker.seed, 7);
  assert.deepEqual(marker.counts, result.counts);

  const scan = await scanDataset(target);
  assert.deepEqual(scan.report.problems, []);
  assert.deepEqual(scan.report.classes.map((c) => c.label), ['Red circles', 'Blue squares', 'Green triangles']);
  assert.deepEqual(scan.report.totals, result.counts);

  const { width, height, format } = await sharp(scan.images[0].path).metadata();
  assert.equal(format, 'jpeg');
  for (const side of [width, height]) assert.ok(side >= 40 && side <= 56, `side ${side} is within ±15% of 48`);
});

test('the same seed gives the same bytes; another seed gives other pictures', async (t) => {
  const parent = await tempParent(t);
  await generateSampleImages(join(parent, 'a'), SMALL);
  await generateSampleImages(join(parent, 'b'), SMALL);
  await generateSampleImages(join(parent, 'c'), { ...SMALL, seed: 8 });
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => snapshot(join(parent, name))));

  assert.deepEqual(a, b);
  assert.deepEqual([...a.keys()].sort(), [...c.keys()].sort(), 'same file names');
  const differing = [...a.keys()].filter((path) => path.endsWith('.jpg') && !a.get(path)!.equals(c.get(path)!));
  assert.equal(differing.length, 18, 'every picture differs');
});

test('a complete set is not generated again', async (t) => {
  const parent = await tempParent(t);
  const target = join(parent, 'images');
  const first = await generateSampleImages(target, SMALL);
  const image = join(target, 'train', '001.Red_circles', 'Red_circles_00001.jpg');
  const before = await stat(image);

  let progressCalls = 0;
  const second = await generateSampleImages(target, { ...SMALL, onProgress: () => progressCalls++ });
  assert.deepEqual(second, first);
  assert.equal(progressCalls, 0);
  const after = await stat(image);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtimeMs, before.mtimeMs);
});

test('a set made with other options is replaced; a folder that is not a set is refused', async (t) => {
  const parent = await tempParent(t);
  const target = join(parent, 'images');
  await generateSampleImages(target, SMALL);
  const replaced = await generateSampleImages(target, { ...SMALL, classes: 2 });
  assert.deepEqual(await readdir(join(target, 'train')), ['001.Red_circles', '002.Blue_squares']);
  assert.deepEqual(replaced.counts, { train: 6, valid: 4, test: 2 });
  assert.deepEqual(await readdir(parent), ['images'], 'the old set is gone');

  const foreign = join(parent, 'my-photos');
  await mkdir(foreign);
  await writeFile(join(foreign, 'holiday.jpg'), 'keep me');
  await assert.rejects(
    generateSampleImages(foreign, SMALL),
    (error) => isDomainError(error) && error.code === 'Conflict' && error.message.includes(foreign),
  );
  assert.equal(await readFile(join(foreign, 'holiday.jpg'), 'utf8'), 'keep me');

  const empty = join(parent, 'empty');
  await mkdir(empty);
  await generateSampleImages(empty, SMALL);
  assert.deepEqual(await readdir(join(empty, 'test')), ['001.Red_circles', '002.Blue_squares', '003.Green_triangles']);
});

test('two generators racing for the same folder both succeed with one complete set', async (t) => {
  const parent = await tempParent(t);
  const target = join(parent, 'images');
  const [a, b] = await Promise.all([generateSampleImages(target, SMALL), generateSampleImages(target, SMALL)]);
  assert.deepEqual(a, b);
  assert.deepEqual(await readdir(parent), ['images']);
  assert.equal((await scanDataset(target)).images.length, 18);
});

test('invalid options are ValidationErrors naming the field', async (t) => {
  const parent = await tempParent(t);
  const cases: [SampleImageOptions, string][] = [
    [{ classes: 1 }, 'classes'],
    [{ classes: SAMPLE_CLASSES.length + 1 }, 'classes'],
    [{ perClass: { train: 0, valid: 1, test: 1 } }, 'perClass.train'],
    [{ perClass: { train: 2, valid: 1.5, test: 1 } }, 'perClass.valid'],
    [{ size: 8 }, 'size'],
    [{ seed: -1 }, 'seed'],
  ];
  for (const [options, field] of cases) {
    await assert.rejects(
      generateSampleImages(join(parent, 'x'), options),
      (error) => isDomainError(error) && error.code === 'ValidationError' && error.details.field === field,
    );
  }
  assert.deepEqual(await readdir(parent), []);
});

test('classes are told apart by plain colour statistics', async (t) => {
  // Mean and spread of each channel are far less than a CNN sees; if even they
  // separate the classes, a frozen random backbone will.
  const parent = await tempParent(t);
  const target = join(parent, 'images');
  await generateSampleImages(target, { seed: 3, perClass: { train: 6, valid: 1, test: 4 }, size: 64 });
  const scan = await scanDataset(target);
  const features = async (path: string) => {
    const { channels } = await sharp(path).stats();
    return channels.flatMap((c) => [c.mean, c.stdev]);
  };
  const centroids: number[][] = [];
  const trainCounts: number[] = [];
  for (const image of scan.images.filter((i) => i.split === 'train')) {
    const f = await features(image.path);
    const centroid = (centroids[image.classIndex] ??= f.map(() => 0));
    f.forEach((v, k) => (centroid[k] += v));
    trainCounts[image.classIndex] = (trainCounts[image.classIndex] ?? 0) + 1;
  }
  centroids.forEach((centroid, c) => centroid.forEach((_, k) => (centroid[k] /= trainCounts[c])));

  const testImages = scan.images.filter((i) => i.split === 'test');
  let correct = 0;
  for (const image of testImages) {
    const f = await features(image.path);
    const distances = centroids.map((centroid) => centroid.reduce((sum, v, k) => sum + (v - f[k]) ** 2, 0));
    if (distances.indexOf(Math.min(...distances)) === image.classIndex) correct++;
  }
  assert.equal(testImages.length, 48);
  assert.ok(correct / testImages.length >= 0.9, `nearest-centroid accuracy ${correct}/${testImages.length}`);
});

test('a single sample JPEG, made in memory, is the same bytes every time', async () => {
  const jpeg = await sampleJpeg();
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
  const metadata = await sharp(jpeg).metadata();
  assert.equal(metadata.width, 128);
  assert.equal(metadata.height, 128);
  assert.deepEqual(await sampleJpeg(), jpeg);
  assert.notDeepEqual(await sampleJpeg({ classIndex: 1 }), jpeg);
});
