import sharp, { type OutputInfo, type Sharp, type SharpOptions } from 'sharp';
import { DomainError, describeError, isDomainError } from '../../core/errors.ts';
import type { Preprocessing } from '../../domain/training/training-job.ts';

/**
 * Image bytes → normalised float32 tensor for a backbone, with torchvision's
 * `Resize(resizeSize) → CenterCrop(cropSize) → ToTensor → Normalize(mean, std)`
 * semantics, so a backbone exported from PyTorch sees what it saw in training.
 * Training (embedding) and serving both go through this file: any change to the
 * pixels it produces must bump PREPROCESSING_VERSION.
 */

/**
 * Names the pixel pipeline below. It is part of every embedding cache key, so
 * vectors computed by an older pipeline are never mixed with new ones.
 */
export const PREPROCESSING_VERSION = 'sharp-linear-v1';

export type ImageFormat = 'jpeg' | 'png' | 'webp';

/**
 * 64 megapixels: above any camera photo a user would classify, far below
 * sharp's default (268 MP). A few-KB compressed file can claim huge dimensions
 * (decompression bomb); sharp refuses those from the header, before decoding.
 */
export const MAX_INPUT_PIXELS = 8192 * 8192;

const DECODE_OPTIONS: SharpOptions = {
  limitInputPixels: MAX_INPUT_PIXELS,
  // sharp's advice for untrusted input: abort on any decoder warning rather
  // than classify half-decoded pixels.
  failOn: 'warning',
  // A phone photo is classified the way it is displayed, not as stored.
  autoOrient: true,
};

/**
 * Format from the magic bytes. Checked before sharp sees the input so that
 * only these three decoders ever run on untrusted bytes (sharp would otherwise
 * happily render SVG, PDF, TIFF, ...).
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const startsWith = (offset: number, signature: number[]) =>
    bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);
  if (startsWith(0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(0, [0x52, 0x49, 0x46, 0x46]) && startsWith(8, [0x57, 0x45, 0x42, 0x50])) return 'webp';
  return undefined;
}

function decodeError(reason: string): DomainError {
  // libvips appends one line per decoder warning; the first line says what matters.
  const summary = reason.split('\n')[0].trim();
  return new DomainError('ModelError', `could not decode image: ${summary}`, { originalStatusCode: 400 });
}

/** Opens the bytes with sharp after the format check; throws ModelError for anything else. */
function openImage(bytes: Uint8Array): Sharp {
  if (!sniffImageFormat(bytes)) {
    throw decodeError(
      bytes.length === 0 ? 'the input is empty' : 'unsupported format (expected JPEG, PNG or WebP)',
    );
  }
  return sharp(bytes, DECODE_OPTIONS);
}

export interface ImageInfo {
  format: ImageFormat;
  /** Dimensions as displayed, after EXIF orientation. */
  width: number;
  height: number;
}

/**
 * Confirms the bytes decode the way preprocessImage will decode them, cheaply:
 * the image is decoded at a small size, so JPEGs use shrink-on-load. A truncated
 * or corrupt file still fails because every byte of the stream is read.
 * Throws the same ModelError preprocessImage would.
 */
export async function probeImage(bytes: Uint8Array): Promise<ImageInfo> {
  const image = openImage(bytes);
  try {
    const metadata = await image.metadata();
    await image.resize(32, 32, { fit: 'inside' }).raw().toBuffer();
    return {
      format: metadata.format as ImageFormat,
      width: metadata.autoOrient.width,
      height: metadata.autoOrient.height,
    };
  } catch (error) {
    throw decodeError(describeError(error));
  }
}

/** Floats per image in the tensor. */
export function tensorSize(p: Preprocessing): number {
  return 3 * p.cropSize * p.cropSize;
}

function assertPreprocessing(p: Preprocessing): void {
  const positiveInteger = (n: number) => Number.isInteger(n) && n > 0;
  if (!positiveInteger(p.resizeSize) || !positiveInteger(p.cropSize) || p.cropSize > p.resizeSize) {
    throw new DomainError(
      'ValidationError',
      `preprocessing sizes are not valid (resizeSize ${p.resizeSize}, cropSize ${p.cropSize}): ` +
        'use positive integers with cropSize <= resizeSize',
      { field: 'preprocessing' },
    );
  }
  if (p.std.some((s) => !(s > 0))) {
    throw new DomainError('ValidationError', `preprocessing std must be positive, got [${p.std.join(', ')}]`, {
      field: 'preprocessing.std',
    });
  }
}

/** Python's round(): halves go to the even neighbour. torchvision's CenterCrop uses it. */
function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

export interface ResizeAndCrop {
  resizedWidth: number;
  resizedHeight: number;
  cropLeft: number;
  cropTop: number;
}

/**
 * torchvision Resize(int): the shorter side becomes `resizeSize`, the longer
 * side keeps the aspect ratio, truncated. Then CenterCrop's top-left corner.
 */
export function resizeAndCropGeometry(width: number, height: number, p: Preprocessing): ResizeAndCrop {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const resizedLong = Math.floor((p.resizeSize * long) / short);
  const resizedWidth = width <= height ? p.resizeSize : resizedLong;
  const resizedHeight = width <= height ? resizedLong : p.resizeSize;
  return {
    resizedWidth,
    resizedHeight,
    cropLeft: roundHalfToEven((resizedWidth - p.cropSize) / 2),
    cropTop: roundHalfToEven((resizedHeight - p.cropSize) / 2),
  };
}

/**
 * PIL's convert('RGB') (what torchvision's ImageFolder loader does) drops alpha
 * and keeps the colour stored under transparent pixels. sharp would resize
 * first, premultiplied by alpha, turning transparent pixels black; so alpha is
 * removed in a pass of its own. Only images with alpha pay for it.
 */
async function withoutAlpha(image: Sharp): Promise<Sharp> {
  const { data, info } = await image.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
}

/** Decodes, resizes and crops: cropSize × cropSize × 3 sRGB bytes (HWC). */
async function decodeCropped(bytes: Uint8Array, p: Preprocessing): Promise<Buffer> {
  const image = openImage(bytes);
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    const metadata = await image.metadata();
    const g = resizeAndCropGeometry(metadata.autoOrient.width, metadata.autoOrient.height, p);
    const opaque = metadata.hasAlpha ? await withoutAlpha(image) : image;
    decoded = await opaque
      .toColourspace('srgb')
      // 'linear' with libvips' size-scaled kernel is PIL's antialiased bilinear.
      .resize(g.resizedWidth, g.resizedHeight, { fit: 'fill', kernel: 'linear' })
      .extract({ left: g.cropLeft, top: g.cropTop, width: p.cropSize, height: p.cropSize })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeError(describeError(error));
  }
  const { info } = decoded;
  if (info.channels !== 3 || info.width !== p.cropSize || info.height !== p.cropSize) {
    throw new DomainError(
      'Internal',
      `image decoded to ${info.width}x${info.height}x${info.channels}, expected ${p.cropSize}x${p.cropSize}x3`,
    );
  }
  return decoded.data;
}

/**
 * Writes one image's tensor into `out` starting at float index `offset`
 * (tensorSize(p) floats), so a batch is assembled without copies.
 */
export async function preprocessImageInto(
  bytes: Uint8Array,
  p: Preprocessing,
  out: Float32Array,
  offset: number,
): Promise<void> {
  assertPreprocessing(p);
  const size = tensorSize(p);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > out.length) {
    throw new DomainError(
      'Internal',
      `tensor of ${size} floats does not fit at offset ${offset} of a buffer of ${out.length}`,
    );
  }
  const pixels = await decodeCropped(bytes, p);
  const plane = p.cropSize * p.cropSize;
  // (v/255 - mean) / std as one multiply-add per value.
  const scale = p.std.map((s) => 1 / (255 * s));
  const bias = p.mean.map((m, c) => -m / p.std[c]);
  for (let c = 0; c < 3; c++) {
    const k = scale[c];
    const b = bias[c];
    const start = p.layout === 'NCHW' ? offset + c * plane : offset + c;
    const stride = p.layout === 'NCHW' ? 1 : 3;
    for (let i = 0; i < plane; i++) out[start + i * stride] = pixels[i * 3 + c] * k + b;
  }
}

/** One image as a 1 × 3 × crop × crop (or 1 × crop × crop × 3) tensor. */
export async function preprocessImage(bytes: Uint8Array, p: Preprocessing): Promise<Float32Array> {
  assertPreprocessing(p);
  const out = new Float32Array(tensorSize(p));
  await preprocessImageInto(bytes, p, out, 0);
  return out;
}

/**
 * Several images into one batch tensor, image i at offset + i × tensorSize(p).
 * Decodes run concurrently on libuv's thread pool. A failure names the image
 * in `details.batchIndex`.
 */
export async function preprocessBatch(
  images: readonly Uint8Array[],
  p: Preprocessing,
  out: Float32Array = new Float32Array(images.length * tensorSize(p)),
  offset = 0,
): Promise<Float32Array> {
  assertPreprocessing(p);
  const size = tensorSize(p);
  await Promise.all(
    images.map(async (bytes, i) => {
      try {
        await preprocessImageInto(bytes, p, out, offset + i * size);
      } catch (error) {
        if (!isDomainError(error)) throw error;
        throw new DomainError(error.code, error.message, { ...error.details, batchIndex: i });
      }
    }),
  );
  return out;
}
