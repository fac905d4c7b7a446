import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { isDomainError } from '../../core/errors.ts';
import type { Preprocessing } from '../../domain/training/training-job.ts';
import {
  preprocessBatch,
  preprocessImage,
  preprocessImageInto,
  probeImage,
  resizeAndCropGeometry,
  sniffImageFormat,
  tensorSize,
} from './preprocess.ts';

const IMAGENET: Pick<Preprocessing, 'mean' | 'std'> = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** A PNG from rows of [r, g, b] (or [r, g, b, a]) pixels. */
async function png(rows: number[][][]): Promise<Buffer> {
  const channels = rows[0][0].length as 3 | 4;
  const raw = Buffer.from(rows.flat(2));
  return sharp(raw, { raw: { width: rows[0].length, height: rows.length, channels } }).png().toBuffer();
}

function solid(width: number, height: number, pixel: number[]): number[][][] {
  return Array.from({ length: height }, () => Array.from({ length: width }, () => pixel));
}

function normalised(value: number, channel: number): number {
  return (value / 255 - IMAGENET.mean[channel]) / IMAGENET.std[channel];
}

function assertModelError(error: unknown, reason: RegExp): true {
  assert.ok(isDomainError(error), `expected a DomainError, got ${String(error)}`);
  assert.equal(error.code, 'ModelError');
  assert.equal(error.details.originalStatusCode, 400);
  assert.match(error.message, /^could not decode image: /);
  assert.match(error.message, reason);
  return true;
}

test('crop without resize: exact normalised values in NCHW order', async () => {
  // 6×4 image whose pixel (x, y) is [10x, 20y, 7]; the short side is already 4,
  // so no resampling happens and the centre 2×2 crop starts at x=2, y=1.
  const rows = Array.from({ length: 4 }, (_, y) => Array.from({ length: 6 }, (_, x) => [10 * x, 20 * y, 7]));
  const p: Preprocessing = { resizeSize: 4, cropSize: 2, ...IMAGENET, layout: 'NCHW' };
  const tensor = await preprocessImage(await png(rows), p);

  const expected: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let y = 1; y <= 2; y++) for (let x = 2; x <= 3; x++) expected.push(normalised(rows[y][x][c], c));
  }
  assert.equal(tensor.length, 12);
  assert.deepEqual(Array.from(tensor), Array.from(Float32Array.from(expected)));
});

test('NHWC layout interleaves the channels of each pixel', async () => {
  const rows = Array.from({ length: 4 }, (_, y) => Array.from({ length: 6 }, (_, x) => [10 * x, 20 * y, 7]));
  const p: Preprocessing = { resizeSize: 4, cropSize: 2, ...IMAGENET, layout: 'NHWC' };
  const tensor = await preprocessImage(await png(rows), p);

  const expected: number[] = [];
  for (let y = 1; y <= 2; y++) {
    for (let x = 2; x <= 3; x++) for (let c = 0; c < 3; c++) expected.push(normalised(rows[y][x][c], c));
  }
  assert.deepEqual(Array.from(tensor), Array.from(Float32Array.from(expected)));
});

test('resize makes the shorter side resizeSize, then the centre is cropped', async () => {
  // 200×100: left half red, right half blue. Resize(50) → 100×50, CenterCrop(50)
  // keeps x 25..74 of the resized image: 25 red columns then 25 blue ones.
  const rows = Array.from({ length: 100 }, () =>
    Array.from({ length: 200 }, (_, x) => (x < 100 ? [255, 0, 0] : [0, 0, 255])),
  );
  const p: Preprocessing = { resizeSize: 50, cropSize: 50, mean: [0, 0, 0], std: [1, 1, 1], layout: 'NCHW' };
  const tensor = await preprocessImage(await png(rows), p);
  const at = (c: number, y: number, x: number) => tensor[c * 2500 + y * 50 + x];

  for (const y of [0, 25, 49]) {
    for (const x of [0, 10, 22]) assert.deepEqual([at(0, y, x), at(2, y, x)], [1, 0], `red at ${x},${y}`);
    for (const x of [27, 40, 49]) assert.deepEqual([at(0, y, x), at(2, y, x)], [0, 1], `blue at ${x},${y}`);
  }
});

test('geometry follows torchvision: truncated long side, centre offsets rounded half to even', () => {
  const p: Preprocessing = { resizeSize: 256, cropSize: 224, ...IMAGENET, layout: 'NCHW' };
  // 500×375 → 341.33… truncated to 341; (341-224)/2 = 58.5 rounds to 58.
  assert.deepEqual(resizeAndCropGeometry(500, 375, p), {
    resizedWidth: 341,
    resizedHeight: 256,
    cropLeft: 58,
    cropTop: 16,
  });
  // Portrait: the width is the short side. 300×451 → 256×384 (384.85 truncated).
  assert.deepEqual(resizeAndCropGeometry(300, 451, p), {
    resizedWidth: 256,
    resizedHeight: 384,
    cropLeft: 16,
    cropTop: 80,
  });
  const odd: Preprocessing = { ...p, resizeSize: 2, cropSize: 2 };
  // (7-2)/2 = 2.5 → 2, where Math.round would give 3.
  assert.equal(resizeAndCropGeometry(7, 2, odd).cropLeft, 2);
  assert.equal(resizeAndCropGeometry(9, 2, odd).cropLeft, 4);
});

test('odd crop offsets pick the same columns as torchvision', async () => {
  const rows = Array.from({ length: 2 }, () => Array.from({ length: 7 }, (_, x) => [30 * x, 0, 0]));
  const p: Preprocessing = { resizeSize: 2, cropSize: 2, mean: [0, 0, 0], std: [1, 1, 1], layout: 'NCHW' };
  const tensor = await preprocessImage(await png(rows), p);
  assert.deepEqual(Array.from(tensor.subarray(0, 2)), [60 / 255, 90 / 255].map(Math.fround));
});

test('PNG with alpha: alpha is dropped, colour kept (as PIL convert("RGB"))', async () => {
  const bytes = await png(solid(10, 10, [200, 100, 50, 0]));
  const p: Preprocessing = { resizeSize: 8, cropSize: 8, ...IMAGENET, layout: 'NCHW' };
  const tensor = await preprocessImage(bytes, p);
  assert.equal(tensor.length, tensorSize(p));
  for (let c = 0; c < 3; c++) assert.equal(tensor[c * 64 + 9], Math.fround(normalised([200, 100, 50][c], c)));
});

test('greyscale input becomes three equal channels', async () => {
  const grey = await sharp(Buffer.alloc(16 * 16, 128), { raw: { width: 16, height: 16, channels: 1 } })
    .png()
    .toBuffer();
  const p: Preprocessing = { resizeSize: 8, cropSize: 8, mean: [0, 0, 0], std: [1, 1, 1], layout: 'NCHW' };
  const tensor = await preprocessImage(grey, p);
  for (let c = 0; c < 3; c++) assert.equal(tensor[c * 64], Math.fround(128 / 255));
});

test('JPEG and WebP decode to close to the source colour', async () => {
  const raw = Buffer.from(solid(32, 32, [40, 160, 220]).flat(2));
  const p: Preprocessing = { resizeSize: 16, cropSize: 16, mean: [0, 0, 0], std: [1, 1, 1], layout: 'NCHW' };
  for (const format of ['jpeg', 'webp'] as const) {
    const bytes = await sharp(raw, { raw: { width: 32, height: 32, channels: 3 } })
      .toFormat(format, { quality: 95 })
      .toBuffer();
    assert.equal(sniffImageFormat(bytes), format);
    const tensor = await preprocessImage(bytes, p);
    [40, 160, 220].forEach((value, c) =>
      assert.ok(Math.abs(tensor[c * 256 + 100] * 255 - value) < 4, `${format} channel ${c}`),
    );
  }
});

test('EXIF orientation is applied before resizing', async () => {
  // Stored landscape 40×20 (left red, right blue) with orientation 6 (rotate 90°
  // clockwise to display): displayed as portrait 20×40, red on top.
  const rows = Array.from({ length: 20 }, () =>
    Array.from({ length: 40 }, (_, x) => (x < 20 ? [255, 0, 0] : [0, 0, 255])),
  );
  const bytes = await sharp(Buffer.from(rows.flat(2)), { raw: { width: 40, height: 20, channels: 3 } })
    .withMetadata({ orientation: 6 })
    .png()
    .toBuffer();
  assert.deepEqual(await probeImage(bytes), { format: 'png', width: 20, height: 40 });
  const p: Preprocessing = { resizeSize: 20, cropSize: 20, mean: [0, 0, 0], std: [1, 1, 1], layout: 'NCHW' };
  const tensor = await preprocessImage(bytes, p);
  const at = (c: number, y: number, x: number) => tensor[c * 400 + y * 20 + x];
  assert.deepEqual([at(0, 2, 10), at(2, 2, 10)], [1, 0]);
  assert.deepEqual([at(0, 17, 10), at(2, 17, 10)], [0, 1]);
});

test('corrupt, truncated, empty and unsupported inputs are ModelErrors with status 400', async () => {
  const p: Preprocessing = { resizeSize: 8, cropSize: 8, ...IMAGENET, layout: 'NCHW' };
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#010203' } }).jpeg().toBuffer();
  const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#010203' } }).gif().toBuffer();
  const jpegSignature = Buffer.from([0xff, 0xd8, 0xff]);
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>');
  const cases: [string, Uint8Array, RegExp][] = [
    ['random bytes behind a JPEG signature', Buffer.concat([jpegSignature, Buffer.alloc(200, 0x42)]), /./],
    ['truncated JPEG', jpeg.subarray(0, jpeg.length >> 1), /./],
    ['empty input', new Uint8Array(0), /empty/],
    ['text', Buffer.from('not an image'), /unsupported format/],
    ['GIF', gif, /unsupported format/],
    ['SVG', svg, /unsupported format/],
  ];
  for (const [name, bytes, reason] of cases) {
    await assert.rejects(preprocessImage(bytes, p), (error) => assertModelError(error, reason), name);
    await assert.rejects(probeImage(bytes), (error) => assertModelError(error, reason), name);
  }
});

test('images over the pixel limit are refused from the header', async () => {
  // A PNG claiming 9000×9000 (81 MP) with almost no pixel data: what a
  // decompression bomb looks like to the decoder before it starts.
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(9000, 0);
  header.writeUInt32BE(9000, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const huge = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  const p: Preprocessing = { resizeSize: 8, cropSize: 8, ...IMAGENET, layout: 'NCHW' };
  await assert.rejects(preprocessImage(huge, p), (error) => assertModelError(error, /pixel limit/));
});

test('invalid preprocessing is a ValidationError', async () => {
  const bytes = await png(solid(4, 4, [0, 0, 0]));
  for (const p of [
    { resizeSize: 4, cropSize: 5, ...IMAGENET, layout: 'NCHW' },
    { resizeSize: 0, cropSize: 0, ...IMAGENET, layout: 'NCHW' },
    { resizeSize: 4, cropSize: 4, mean: [0, 0, 0], std: [1, 0, 1], layout: 'NCHW' },
  ] as Preprocessing[]) {
    await assert.rejects(
      preprocessImage(bytes, p),
      (error) => isDomainError(error) && error.code === 'ValidationError',
    );
  }
});

test('batch variants write each image at its own offset', async () => {
  const p: Preprocessing = { resizeSize: 2, cropSize: 2, mean: [0, 0, 0], std: [1, 1, 1], layout: 'NCHW' };
  const images = await Promise.all([10, 20, 30].map((v) => png(solid(2, 2, [v, v, v]))));
  const size = tensorSize(p);

  const batch = await preprocessBatch(images, p);
  assert.equal(batch.length, 3 * size);
  images.forEach((_, i) => {
    const expected = Math.fround((10 * (i + 1)) / 255);
    assert.ok(batch.subarray(i * size, (i + 1) * size).every((v) => v === expected));
  });

  const out = new Float32Array(5 * size).fill(-1);
  await preprocessBatch(images.slice(0, 2), p, out, 2 * size);
  assert.ok(out.subarray(0, 2 * size).every((v) => v === -1), 'before the offset is untouched');
  assert.ok(out.subarray(2 * size, 3 * size).every((v) => v === Math.fround(10 / 255)));
  assert.ok(out.subarray(3 * size, 4 * size).every((v) => v === Math.fround(20 / 255)));
  assert.ok(out.subarray(4 * size).every((v) => v === -1), 'after the batch is untouched');

  await assert.rejects(preprocessImageInto(images[0], p, out, 4 * size + 1), (error) => isDomainError(error));
});
