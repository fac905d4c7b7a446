/**
 * A dogImages-shaped set of photo-sized JPEGs for the tuning bench: `train/`, `valid/`, `test/`
 * folders of class folders (`001.Breed_001/…jpg`), with dogImages' class count and split sizes
 * (133 classes; 6,680 train, 835 valid) by default. generateSampleImages draws at most 16 classes
 * at 128 px, so this set is drawn here: every image is different (the embedding cache is keyed by
 * content, so a repeated file would be embedded once and flatter Kennel), 450–500 px on the long
 * side like dogImages, and noisy enough to decode like a photo. Each class has its own colour
 * layout, so the head has something to learn even through a backbone with random weights.
 *
 * The set is made once in bench/.cache and reused: that is safe, because what must be fresh for
 * the bench is the embedding cache, which lives in the Kennel home, not the images.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { mapWithConcurrency } from '../../src/core/concurrency.ts';
import { deriveSeed, seededRandom, type Random } from '../../src/core/random.ts';
import { SPLITS, type Split } from '../../src/domain/data/dataset.ts';
import { PHOTO_SIZES } from '../endpoint/fixtures.ts';

/** Bumped whenever the pictures change, so an older cached set is regenerated. */
const IMAGE_SET_VERSION = 1;
const MARKER = '.kennel-bench-images.json';


/** The colour layout of a class is a coarse grid, upsampled smoothly to the image size. */
const GRID_W = 4;
const GRID_H = 3;

export interface ImageSetSpec {
  classes: number;
  /** Images in each split, spread over the classes as evenly as they go (the first classes get one more). */
  totals: Record<Split, number>;
}

/** dogImages: 133 classes, 6,680 train and 835 valid images; test is kept small (see index.ts). */
export const REFERENCE_SET: ImageSetSpec = { classes: 133, totals: { train: 6680, valid: 835, test: 133 } };

export interface ImageSet {
  dir: string;
  classes: string[];
  counts: Record<Split, number>;
  /** Mean file size, KB. */
  meanKb: number;
  /** Whether this call drew the set (false: found in the cache). */
  made: boolean;
  seconds: number;
}

export function perClassCount(spec: ImageSetSpec, split: Split, classIndex: number): number {
  const total = spec.totals[split];
  return Math.floor(total / spec.classes) + (classIndex < total % spec.classes ? 1 : 0);
}

export function classFolder(index: number): string {
  const number = String(index + 1).padStart(3, '0');
  return `${number}.Breed_${number}`;
}

/** The set in `cacheDir/dogimages-v<N>-<classes>c-<train>-<valid>-<test>`, drawn if it is not there yet. */
export async function ensureImageSet(
  cacheDir: string,
  spec: ImageSetSpec,
  onProgress?: (done: number, total: number) => void,
): Promise<ImageSet> {
  const started = performance.now();
  const { train, valid, test } = spec.totals;
  const dir = join(cacheDir, `dogimages-v${IMAGE_SET_VERSION}-${spec.classes}c-${train}-${valid}-${test}`);
  const classes = Array.from({ length: spec.classes }, (_, i) => classFolder(i));
  const files: { split: Split; classIndex: number; index: number; path: string }[] = [];
  for (const split of SPLITS) {
    for (let c = 0; c < spec.classes; c++) {
      for (let i = 0; i < perClassCount(spec, split, c); i++) {
        files.push({ split, classIndex: c, index: i, path: join(split, classes[c], `Breed_${String(c + 1).padStart(3, '0')}_${split}_${String(i).padStart(5, '0')}.jpg`) });
      }
    }
  }
  let made = false;
  let totalBytes: number;
  const marker = await readMarker(dir);
  if (marker && marker.count === files.length) {
    totalBytes = marker.bytes;
  } else {
    made = true;
    const temp = `${dir}.partial-${process.pid}`;
    await rm(temp, { recursive: true, force: true });
    for (const split of SPLITS) for (const folder of classes) await mkdir(join(temp, split, folder), { recursive: true });
    const palettes = classes.map((_, c) => classPalette(seededRandom(deriveSeed(IMAGE_SET_VERSION, `class-${c}`))));
    let done = 0;
    const sizes = await mapWithConcurrency(files, 4, async (file, n) => {
      const random = seededRandom(deriveSeed(IMAGE_SET_VERSION, `${file.split}-${file.classIndex}-${file.index}`));
      const jpeg = await drawJpeg(random, palettes[file.classIndex], PHOTO_SIZES[n % PHOTO_SIZES.length]);
      await writeFile(join(temp, file.path), jpeg);
      done++;
      if (done % 250 === 0 || done === files.length) onProgress?.(done, files.length);
      return jpeg.byteLength;
    });
    totalBytes = sizes.reduce((sum, size) => sum + size, 0);
    await writeFile(join(temp, MARKER), JSON.stringify({ version: IMAGE_SET_VERSION, count: files.length, bytes: totalBytes }) + '\n');
    await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
  }
  const counts = { train, valid, test };
  return { dir, classes, counts, meanKb: totalBytes / files.length / 1024, made, seconds: (performance.now() - started) / 1000 };
}

async function readMarker(dir: string): Promise<{ count: number; bytes: number } | undefined> {
  if (!existsSync(join(dir, MARKER))) return undefined;
  try {
    return JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as { count: number; bytes: number };
  } catch {
    return undefined;
  }
}

/** GRID_W × GRID_H RGB colours. */
function classPalette(random: Random): number[] {
  return Array.from({ length: GRID_W * GRID_H * 3 }, () => 30 + random.next() * 195);
}

/**
 * The class's colour grid, jittered, mirrored at random, upsampled to the photo size; then stripes
 * at a random angle and period, and grain, which is what makes a JPEG cost what a photo costs to
 * decode (tens of KB at 500×375 and quality 88, as bench/endpoint's JPEGs).
 */
async function drawJpeg(random: Random, palette: number[], [width, height]: [number, number]): Promise<Buffer> {
  const pixels = drawPixels(random, palette, width, height);
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 88 }).toBuffer();
}

/** Kept out of the async function above, where V8 optimises the loops poorly (3× slower, measured). */
function drawPixels(random: Random, palette: number[], width: number, height: number): Uint8ClampedArray {
  const mirror = random.next() < 0.5;
  const grid = Buffer.alloc(GRID_W * GRID_H * 3);
  for (let y = 0; y < GRID_H; y++) {
    for (let x = 0; x < GRID_W; x++) {
      const from = (y * GRID_W + (mirror ? GRID_W - 1 - x : x)) * 3;
      for (let c = 0; c < 3; c++) grid[(y * GRID_W + x) * 3 + c] = clamp(palette[from + c] + (random.next() - 0.5) * 60);
    }
  }
  const angle = random.next() * Math.PI;
  const [ax, ay] = [Math.cos(angle), Math.sin(angle)];
  const period = 6 + random.next() * 30;
  const strength = random.next() * 30;
  const phase = random.next() * 2 * Math.PI;
  // Stripes come from a table of sin at 1/8 px steps of the projection x·cos + y·sin, which lies
  // in [-width, width + height] (the angle is in [0, π)); grain from xorshift32, two bytes per channel. The loop is kept
  // to typed-array reads and integer arithmetic, so drawing a 500×375 picture takes a few ms.
  const offset = width;
  const table = new Float32Array((2 * width + height) * 8 + 8);
  for (let i = 0; i < table.length; i++) table[i] = strength * Math.sin(((i / 8 - offset) / period) * 2 * Math.PI + phase);
  const pixels = new Uint8ClampedArray(width * height * 3);
  const row = new Float32Array(width * 3);
  let state = Math.floor(random.next() * 0x7fffffff) | 1;
  for (let y = 0; y < height; y++) {
    // Bilinear upsampling of the grid, one row at a time.
    const gy = Math.min(GRID_H - 1.001, Math.max(0, ((y + 0.5) / height) * GRID_H - 0.5));
    const y0 = Math.floor(gy);
    const fy = gy - y0;
    for (let x = 0; x < width; x++) {
      const gx = Math.min(GRID_W - 1.001, Math.max(0, ((x + 0.5) / width) * GRID_W - 0.5));
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      const a = (y0 * GRID_W + x0) * 3;
      const c = a + GRID_W * 3;
      for (let k = 0; k < 3; k++) {
        const top = grid[a + k] + (grid[a + 3 + k] - grid[a + k]) * fx;
        const bottom = grid[c + k] + (grid[c + 3 + k] - grid[c + k]) * fx;
        row[x * 3 + k] = top + (bottom - top) * fy;
      }
    }
    const base = y * width * 3;
    for (let x = 0; x < width; x++) {
      const wave = table[Math.round((x * ax + y * ay + offset) * 8)];
      for (let k = 0; k < 3; k++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const grain = ((state & 0xff) + ((state >>> 8) & 0xff) - 255) * (24 / 255);
        pixels[base + x * 3 + k] = row[x * 3 + k] + wave + grain;
      }
    }
  }
  return pixels;
}

function clamp(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}
