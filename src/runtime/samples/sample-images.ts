import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import { DomainError } from '../../core/errors.ts';
import { deriveSeed, randomInt, seededRandom, type Random } from '../../core/random.ts';
import { SPLITS, type Split } from '../../domain/data/dataset.ts';

/**
 * A generated stand-in for dogImages (this machine cannot download it): the
 * same `{train,valid,test}/<NNN.Class_name>/<Class_name>_<NNNNN>.jpg` layout,
 * with classes a frozen small CNN can tell apart from pooled features. Each
 * class differs from every other in colour palette, shape family and
 * background; every image is jittered so a class is a distribution, not a
 * template.
 */

type Shape =
  | 'circles'
  | 'squares'
  | 'triangles'
  | 'stripes'
  | 'checkerboard'
  | 'dots'
  | 'rings'
  | 'crosses'
  | 'waves'
  | 'stars'
  | 'diamonds'
  | 'targets'
  | 'bars'
  | 'hexagons'
  | 'zigzags'
  | 'grid';

interface SampleClass {
  name: string;
  shape: Shape;
  /** Shape colours; each shape (or the whole pattern) takes one of them. */
  palette: string[];
  background: string;
}

/** What each class looks like. The first `classes` rows are used, in this order. */
export const SAMPLE_CLASSES: readonly SampleClass[] = [
  { name: 'Red_circles', shape: 'circles', palette: ['#d62828', '#e85d04'], background: '#f3e9d2' }, // on cream
  { name: 'Blue_squares', shape: 'squares', palette: ['#1d4ed8', '#3a86ff'], background: '#d9d9d9' }, // on light grey
  { name: 'Green_triangles', shape: 'triangles', palette: ['#2b9348', '#55a630'], background: '#fde2e4' }, // on pale pink
  { name: 'Yellow_stripes', shape: 'stripes', palette: ['#ffd60a', '#ffc300'], background: '#3c096c' }, // on dark purple
  { name: 'Purple_checkerboard', shape: 'checkerboard', palette: ['#7b2cbf', '#9d4edd'], background: '#e9f5db' }, // on mint
  { name: 'Orange_dots', shape: 'dots', palette: ['#fb8500', '#ffb703'], background: '#023047' }, // on dark teal
  { name: 'Cyan_rings', shape: 'rings', palette: ['#00f5d4', '#4cc9f0'], background: '#111111' }, // on black
  { name: 'Magenta_crosses', shape: 'crosses', palette: ['#d100d1', '#ff006e'], background: '#fff3b0' }, // on pale yellow
  { name: 'Teal_waves', shape: 'waves', palette: ['#087e8b', '#0b3954'], background: '#e9c46a' }, // on sand
  { name: 'White_stars', shape: 'stars', palette: ['#ffffff', '#e0e0e0'], background: '#14213d' }, // on deep blue
  { name: 'Black_diamonds', shape: 'diamonds', palette: ['#111111', '#333333'], background: '#ff8fab' }, // on pink
  { name: 'Lime_targets', shape: 'targets', palette: ['#a7c957', '#6a994e'], background: '#5e503f' }, // on brown-grey
  { name: 'Brown_bars', shape: 'bars', palette: ['#7f4f24', '#582f0e'], background: '#a9d6e5' }, // on light blue
  { name: 'Navy_hexagons', shape: 'hexagons', palette: ['#03045e', '#0077b6'], background: '#ffcdb2' }, // on peach
  { name: 'Pink_zigzags', shape: 'zigzags', palette: ['#ff70a6', '#ff9770'], background: '#2b2d42' }, // on dark slate
  { name: 'Gold_grid', shape: 'grid', palette: ['#ffbe0b', '#f5cb5c'], background: '#6a040f' }, // on maroon
];

export interface SampleImageOptions {
  seed?: number;
  classes?: number;
  perClass?: Record<Split, number>;
  /** Approximate side in pixels; each image's width and height vary ±15% around it. */
  size?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SampleImageSet {
  /** Class folder names (`001.Red_circles`, ...) in label order. */
  classes: string[];
  counts: Record<Split, number>;
}

const DEFAULTS = { seed: 1, classes: 12, perClass: { train: 40, valid: 8, test: 8 }, size: 128 };

/** Bumped whenever the pictures change, so an older set on disk is regenerated. */
const GENERATOR_VERSION = 1;
export const SAMPLE_MARKER_FILE = '.kennel-sample.json';

/** Images drawn or encoded at once: the main thread draws while libvips encodes. */
const CONCURRENCY = 4;

interface Marker {
  generator: 'kennel-sample-images';
  version: number;
  seed: number;
  classes: string[];
  perClass: Record<Split, number>;
  size: number;
  counts: Record<Split, number>;
}

/**
 * Writes the sample set into `targetDir`, or does nothing if a set made with
 * the same options is already there. The set is built in a temporary folder
 * next to the target and renamed into place, so the target is either absent or
 * complete, even after a crash.
 */
export async function generateSampleImages(
  targetDir: string,
  options: SampleImageOptions = {},
): Promise<SampleImageSet> {
  const seed = options.seed ?? DEFAULTS.seed;
  const classCount = options.classes ?? DEFAULTS.classes;
  const perClass = options.perClass ?? DEFAULTS.perClass;
  const size = options.size ?? DEFAULTS.size;
  assertIntegerIn('seed', seed, 0, 2 ** 32 - 1);
  assertIntegerIn('classes', classCount, 2, SAMPLE_CLASSES.length);
  for (const split of SPLITS) assertIntegerIn(`perClass.${split}`, perClass[split], 1, 100_000);
  assertIntegerIn('size', size, 32, 1024);

  const classes = SAMPLE_CLASSES.slice(0, classCount);
  const folders = classes.map((c, i) => `${String(i + 1).padStart(3, '0')}.${c.name}`);
  const counts = { train: 0, valid: 0, test: 0 };
  for (const split of SPLITS) counts[split] = perClass[split] * classCount;
  const marker: Marker = {
    generator: 'kennel-sample-images',
    version: GENERATOR_VERSION,
    seed,
    classes: folders,
    perClass: { train: perClass.train, valid: perClass.valid, test: perClass.test },
    size,
    counts,
  };
  const result: SampleImageSet = { classes: folders, counts };

  const existing = await readMarker(targetDir);
  if (existing && sameSet(existing, marker)) return result;
  if (!existing && (await isOccupied(targetDir))) {
    throw new DomainError(
      'Conflict',
      `${targetDir} already exists and is not a Kennel sample set: remove it or choose another folder for the sample images`,
    );
  }

  // mkdir, not mkdtemp: mkdtemp's 0700 mode would end up on the finished folder.
  const temp = join(dirname(targetDir), `.${basename(targetDir)}.partial-${randomUUID()}`);
  await mkdir(temp, { recursive: true });
  try {
    await writeImages(temp, classes, folders, perClass, seed, size, options.onProgress);
    await writeFile(join(temp, SAMPLE_MARKER_FILE), JSON.stringify(marker, null, 2) + '\n');
    await moveIntoPlace(temp, targetDir, existing !== undefined);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    // Another process may have finished the same set first: theirs is as good as ours.
    const winner = await readMarker(targetDir);
    if (winner && sameSet(winner, marker)) return result;
    throw error;
  }
  return result;
}

/**
 * One image of the sample set's kind, made in memory: the JPEG `kennel load` sends when it is given
 * none. The same bytes every time for the same class and seed.
 */
export async function sampleJpeg(options: { classIndex?: number; seed?: number; size?: number } = {}): Promise<Buffer> {
  const classIndex = options.classIndex ?? 0;
  const size = options.size ?? DEFAULTS.size;
  assertIntegerIn('classIndex', classIndex, 0, SAMPLE_CLASSES.length - 1);
  assertIntegerIn('size', size, 32, 1024);
  const pixels = drawImage(SAMPLE_CLASSES[classIndex], seededRandom(options.seed ?? DEFAULTS.seed), size, size);
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

function assertIntegerIn(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const message = `sample images: ${field} must be an integer from ${min} to ${max}, got ${value}`;
    throw new DomainError('ValidationError', message, { field });
  }
}

async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, SAMPLE_MARKER_FILE), 'utf8'));
    return parsed?.generator === 'kennel-sample-images' ? (parsed as Marker) : undefined;
  } catch {
    return undefined;
  }
}

function sameSet(a: Marker, b: Marker): boolean {
  const identity = (m: Marker) => JSON.stringify([m.version, m.seed, m.classes, m.perClass, m.size]);
  return identity(a) === identity(b);
}

/** Whether something other than nothing or an empty folder is at `path`. */
async function isOccupied(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length > 0;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'ENOTDIR') return true;
    throw error;
  }
}

/**
 * rename() replaces an absent or empty folder atomically. An outdated sample
 * set (ours, by its marker) is first moved aside, then deleted.
 */
async function moveIntoPlace(temp: string, targetDir: string, replacesOldSet: boolean): Promise<void> {
  if (!replacesOldSet) {
    await rename(temp, targetDir);
    return;
  }
  const old = `${temp}.old`;
  await rename(targetDir, old);
  try {
    await rename(temp, targetDir);
  } catch (error) {
    await rename(old, targetDir);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}

async function writeImages(
  root: string,
  classes: readonly SampleClass[],
  folders: readonly string[],
  perClass: Record<Split, number>,
  seed: number,
  size: number,
  onProgress: SampleImageOptions['onProgress'],
): Promise<void> {
  const jobs: { path: string; sampleClass: SampleClass; seed: number }[] = [];
  for (const [c, sampleClass] of classes.entries()) {
    // Numbered across splits, as in dogImages, so every file name in a class is unique.
    let number = 0;
    for (const split of SPLITS) {
      const dir = join(root, split, folders[c]);
      await mkdir(dir, { recursive: true });
      for (let i = 0; i < perClass[split]; i++) {
        number++;
        const name = `${sampleClass.name}_${String(number).padStart(5, '0')}.jpg`;
        // One stream per image: the bytes do not depend on the order images are made in.
        jobs.push({ path: join(dir, name), sampleClass, seed: deriveSeed(seed, `${folders[c]}/${name}`) });
      }
    }
  }
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const random = seededRandom(job.seed);
      const width = Math.round(size * (0.85 + 0.3 * random.next()));
      const height = Math.round(size * (0.85 + 0.3 * random.next()));
      const pixels = drawImage(job.sampleClass, random, width, height);
      const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
      await writeFile(job.path, jpeg);
      onProgress?.(++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
}

// ---- Drawing: signed distance fields, one anti-aliased layer per shape ----

type Rgb = [number, number, number];

/** Something painted in one colour: distance in pixels to its edge, negative inside. */
interface Layer {
  colour: Rgb;
  distance(x: number, y: number): number;
}

function drawImage(sampleClass: SampleClass, random: Random, width: number, height: number): Buffer {
  const uniform = (low: number, high: number) => low + (high - low) * random.next();
  const background = jitterColour(parseHex(sampleClass.background), uniform(-8, 8), uniform(0.9, 1.1));
  const palette = sampleClass.palette.map((hex) => jitterColour(parseHex(hex), uniform(-12, 12), uniform(0.85, 1.15)));
  const layers = SHAPES[sampleClass.shape]({
    random,
    uniform,
    width,
    height,
    side: Math.min(width, height),
    pick: () => palette[randomInt(random, 0, palette.length)],
  });

  // Background: a soft linear gradient in a random direction. Then uniform
  // per-channel noise over everything (Gaussian noise cost more than the drawing).
  const gradientAngle = uniform(0, 2 * Math.PI);
  const gradientStrength = uniform(-0.15, 0.15);
  const gx = (Math.cos(gradientAngle) * gradientStrength) / width;
  const gy = (Math.sin(gradientAngle) * gradientStrength) / height;
  const noiseRange = uniform(10, 30);

  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const shade = 1 + gx * (x - width / 2) + gy * (y - height / 2);
      let r = background[0] * shade;
      let g = background[1] * shade;
      let b = background[2] * shade;
      for (let l = 0; l < layers.length; l++) {
        const layer = layers[l];
        const coverage = Math.min(1, Math.max(0, 0.5 - layer.distance(x + 0.5, y + 0.5)));
        if (coverage === 0) continue;
        r += (layer.colour[0] - r) * coverage;
        g += (layer.colour[1] - g) * coverage;
        b += (layer.colour[2] - b) * coverage;
      }
      const o = (y * width + x) * 3;
      pixels[o] = clampByte(r + noiseRange * (random.next() - 0.5));
      pixels[o + 1] = clampByte(g + noiseRange * (random.next() - 0.5));
      pixels[o + 2] = clampByte(b + noiseRange * (random.next() - 0.5));
    }
  }
  return pixels;
}

/** Math.hypot for two numbers, several times faster in V8. */
function length(x: number, y: number): number {
  return Math.sqrt(x * x + y * y);
}

function clampByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v)));
}

function parseHex(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Hue shifted by `hueDegrees`, value scaled by `brightness` (HSV). */
function jitterColour([r, g, b]: Rgb, hueDegrees: number, brightness: number): Rgb {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const chroma = max - min;
  let hue = 0;
  if (chroma > 0) {
    if (max === r) hue = ((g - b) / chroma + 6) % 6;
    else if (max === g) hue = (b - r) / chroma + 2;
    else hue = (r - g) / chroma + 4;
  }
  hue = (((hue * 60 + hueDegrees) % 360) + 360) % 360;
  const value = Math.min(255, max * brightness);
  const saturation = max === 0 ? 0 : chroma / max;
  const c = value * saturation;
  const x = c * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = value - c;
  const sector = Math.floor(hue / 60);
  const [r1, g1, b1] = [
    [c, x, 0],
    [x, c, 0],
    [0, c, x],
    [0, x, c],
    [x, 0, c],
    [c, 0, x],
  ][sector];
  return [r1 + m, g1 + m, b1 + m];
}

interface DrawContext {
  random: Random;
  uniform(low: number, high: number): number;
  width: number;
  height: number;
  /** The shorter side: sizes are fractions of it. */
  side: number;
  /** A palette colour, chosen at random. */
  pick(): Rgb;
}

/** A shape's distance function in its own frame, placed at (cx, cy) and turned by `angle`. */
function placed(colour: Rgb, cx: number, cy: number, angle: number, local: (u: number, v: number) => number): Layer {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return {
    colour,
    distance: (x, y) => {
      const dx = x - cx;
      const dy = y - cy;
      return local(cos * dx + sin * dy, -sin * dx + cos * dy);
    },
  };
}

/** `count` shapes of random size, position, rotation and palette colour. */
function scatter(
  ctx: DrawContext,
  count: [number, number],
  sizes: [number, number],
  local: (size: number) => (u: number, v: number) => number,
): Layer[] {
  const n = randomInt(ctx.random, count[0], count[1] + 1);
  return Array.from({ length: n }, () =>
    placed(
      ctx.pick(),
      ctx.uniform(0.2, 0.8) * ctx.width,
      ctx.uniform(0.2, 0.8) * ctx.height,
      ctx.uniform(0, 2 * Math.PI),
      local(ctx.uniform(sizes[0], sizes[1]) * ctx.side),
    ),
  );
}

/** A pattern over the whole image, in one palette colour, shifted and turned at random. */
function pattern(ctx: DrawContext, angle: number, local: (u: number, v: number) => number): Layer {
  const cx = ctx.uniform(0, ctx.width);
  const cy = ctx.uniform(0, ctx.height);
  return placed(ctx.pick(), cx, cy, angle, local);
}

/** Distance to the nearest of the bands of width `band` centred on multiples of `period`. */
function bands(t: number, period: number, band: number): number {
  return Math.abs(t - period * Math.round(t / period)) - band / 2;
}

function box(u: number, v: number, halfWidth: number, halfHeight: number): number {
  const dx = Math.abs(u) - halfWidth;
  const dy = Math.abs(v) - halfHeight;
  return length(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0);
}

/** Exact distance to an equilateral triangle of half-side r (Inigo Quilez). */
function triangle(u: number, v: number, r: number): number {
  const k = Math.sqrt(3);
  let x = Math.abs(u) - r;
  let y = v + r / k;
  if (x + k * y > 0) {
    const folded = (x - k * y) / 2;
    y = (-k * x - y) / 2;
    x = folded;
  }
  x -= Math.min(Math.max(x, -2 * r), 0);
  return -length(x, y) * Math.sign(y);
}

/** Distance to a five-pointed star of outer radius r, inner radius r × inner (Inigo Quilez). */
function star(u: number, v: number, r: number, inner: number): number {
  const k1x = 0.809016994375;
  const k1y = -0.587785252292;
  let x = Math.abs(u);
  let y = v;
  let d = 2 * Math.max(k1x * x + k1y * y, 0);
  x -= d * k1x;
  y -= d * k1y;
  d = 2 * Math.max(-k1x * x + k1y * y, 0);
  x -= d * -k1x;
  y -= d * k1y;
  x = Math.abs(x);
  y -= r;
  const bax = inner * -k1y;
  const bay = inner * k1x - 1;
  const h = Math.min(Math.max((x * bax + y * bay) / (bax * bax + bay * bay), 0), r);
  return length(x - bax * h, y - bay * h) * Math.sign(y * bax - x * bay);
}

/** Distance to a regular hexagon of inner radius r (Inigo Quilez). */
function hexagon(u: number, v: number, r: number): number {
  const kx = -0.866025404;
  const ky = 0.5;
  const kz = 0.577350269;
  let x = Math.abs(u);
  let y = Math.abs(v);
  const d = 2 * Math.min(kx * x + ky * y, 0);
  x -= d * kx;
  y -= d * ky;
  x -= Math.min(Math.max(x, -kz * r), kz * r);
  y -= r;
  return length(x, y) * Math.sign(y);
}

const SHAPES: Record<Shape, (ctx: DrawContext) => Layer[]> = {
  circles: (ctx) => scatter(ctx, [1, 3], [0.12, 0.24], (r) => (u, v) => length(u, v) - r),
  squares: (ctx) => scatter(ctx, [1, 3], [0.1, 0.2], (h) => (u, v) => box(u, v, h, h)),
  triangles: (ctx) => scatter(ctx, [1, 3], [0.14, 0.26], (r) => (u, v) => triangle(u, v, r)),
  rings: (ctx) => scatter(ctx, [1, 3], [0.14, 0.26], (r) => (u, v) => Math.abs(length(u, v) - r) - 0.22 * r),
  crosses: (ctx) =>
    scatter(ctx, [1, 4], [0.12, 0.2], (arm) => (u, v) => Math.min(box(u, v, arm, arm / 4), box(u, v, arm / 4, arm))),
  stars: (ctx) => scatter(ctx, [1, 3], [0.15, 0.27], (r) => (u, v) => star(u, v, r, 0.45)),
  hexagons: (ctx) => scatter(ctx, [1, 3], [0.11, 0.2], (r) => (u, v) => hexagon(u, v, r)),
  diamonds: (ctx) =>
    scatter(ctx, [1, 3], [0.08, 0.13], (a) => {
      const b = 1.8 * a;
      // Distance to the edge line |u|/a + |v|/b = 1; exact except near the tips.
      return (u, v) => (Math.abs(u) / a + Math.abs(v) / b - 1) / length(1 / a, 1 / b);
    }),
  stripes: (ctx) => {
    const period = ctx.uniform(0.14, 0.22) * ctx.side;
    const band = period * ctx.uniform(0.4, 0.55);
    return [pattern(ctx, ctx.uniform(30, 60) * (Math.PI / 180), (u) => bands(u, period, band))];
  },
  bars: (ctx) => {
    const period = ctx.uniform(0.25, 0.35) * ctx.side;
    const band = period * ctx.uniform(0.35, 0.5);
    return [pattern(ctx, ctx.uniform(-8, 8) * (Math.PI / 180), (u) => bands(u, period, band))];
  },
  checkerboard: (ctx) => {
    const cell = ctx.uniform(0.11, 0.17) * ctx.side;
    return [
      pattern(ctx, ctx.uniform(-20, 20) * (Math.PI / 180), (u, v) => {
        const a = u - cell * Math.floor(u / cell);
        const b = v - cell * Math.floor(v / cell);
        const edge = Math.min(a, cell - a, b, cell - b);
        return (Math.floor(u / cell) + Math.floor(v / cell)) % 2 === 0 ? edge : -edge;
      }),
    ];
  },
  dots: (ctx) => {
    const spacing = ctx.uniform(0.11, 0.15) * ctx.side;
    const r = ctx.uniform(0.025, 0.04) * ctx.side;
    return [
      pattern(ctx, ctx.uniform(0, Math.PI / 2), (u, v) =>
        length(bands(u, spacing, 0), bands(v, spacing, 0)) - r,
      ),
    ];
  },
  grid: (ctx) => {
    const spacing = ctx.uniform(0.14, 0.2) * ctx.side;
    const line = ctx.uniform(0.02, 0.035) * ctx.side;
    return [
      pattern(ctx, ctx.uniform(-15, 15) * (Math.PI / 180), (u, v) =>
        Math.min(bands(u, spacing, line), bands(v, spacing, line)),
      ),
    ];
  },
  waves: (ctx) => {
    const period = ctx.uniform(0.18, 0.26) * ctx.side;
    const band = ctx.uniform(0.05, 0.08) * ctx.side;
    const amplitude = ctx.uniform(0.04, 0.08) * ctx.side;
    const wavelength = ctx.uniform(0.3, 0.5) * ctx.side;
    return [
      pattern(ctx, ctx.uniform(-15, 15) * (Math.PI / 180), (u, v) =>
        bands(v - amplitude * Math.sin((2 * Math.PI * u) / wavelength), period, band),
      ),
    ];
  },
  zigzags: (ctx) => {
    const period = ctx.uniform(0.2, 0.28) * ctx.side;
    const band = ctx.uniform(0.04, 0.06) * ctx.side;
    const amplitude = ctx.uniform(0.05, 0.08) * ctx.side;
    const wavelength = ctx.uniform(0.2, 0.3) * ctx.side;
    // A triangle wave: |distance to the nearest multiple of the wavelength|, rescaled.
    const zigzag = (u: number) => amplitude * (4 * Math.abs(u / wavelength - Math.round(u / wavelength)) - 1);
    return [pattern(ctx, ctx.uniform(-15, 15) * (Math.PI / 180), (u, v) => bands(v - zigzag(u), period, band))];
  },
  targets: (ctx) => {
    const period = ctx.uniform(0.08, 0.12) * ctx.side;
    const radius = ctx.uniform(0.3, 0.45) * ctx.side;
    return [
      placed(ctx.pick(), ctx.uniform(0.35, 0.65) * ctx.width, ctx.uniform(0.35, 0.65) * ctx.height, 0, (u, v) => {
        const r = length(u, v);
        return Math.max(bands(r, period, period / 2), r - radius);
      }),
    ];
  },
};
