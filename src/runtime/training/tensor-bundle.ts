import { createHash } from 'node:crypto';
import { DomainError } from '../../core/errors.ts';
import { decodeRecord, encodeRecord } from '../../store/sqlite/record-codec.ts';

/**
 * A JSON header and named float32/int32 arrays in one file, checked by a
 * SHA-256 at its end: how training checkpoints and a tuning job's embedded data
 * are written. Layout: "KNNLBNDL", u32 header length, header JSON (numbers as
 * the record codec writes them, so a NaN loss survives), the arrays' bytes in
 * header order, each 4-byte aligned, then the SHA-256 of everything before it.
 */
const MAGIC = Buffer.from('KNNLBNDL');
const HASH_BYTES = 32;

type TypedArray = Float32Array | Int32Array;

export interface Bundle<H> {
  header: H;
  arrays: Record<string, TypedArray>;
}

interface ArrayEntry {
  name: string;
  type: 'float32' | 'int32';
  length: number;
}

export function encodeBundle<H>(header: H, arrays: Readonly<Record<string, TypedArray>>): Uint8Array {
  const entries: ArrayEntry[] = Object.entries(arrays).map(([name, values]) => ({
    name,
    type: values instanceof Float32Array ? 'float32' : 'int32',
    length: values.length,
  }));
  const headerBytes = Buffer.from(encodeRecord({ header, arrays: entries }));
  const headerLength = align(headerBytes.length);
  const dataBytes = entries.reduce((sum, entry) => sum + entry.length * 4, 0);
  const out = Buffer.alloc(MAGIC.length + 4 + headerLength + dataBytes + HASH_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(headerLength, MAGIC.length);
  out.fill(0x20, MAGIC.length + 4, MAGIC.length + 4 + headerLength);
  headerBytes.copy(out, MAGIC.length + 4);
  let offset = MAGIC.length + 4 + headerLength;
  for (const entry of entries) {
    const values = arrays[entry.name];
    Buffer.from(values.buffer, values.byteOffset, values.byteLength).copy(out, offset);
    offset += values.byteLength;
  }
  createHash('sha256').update(out.subarray(0, offset)).digest().copy(out, offset);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Reads a bundle, refusing anything damaged or foreign. With `shared`, the arrays
 * live in one SharedArrayBuffer, for worker threads to read without copies.
 */
export function decodeBundle<H>(bytes: Uint8Array, what: string, options: { shared?: boolean } = {}): Bundle<H> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const damaged = (why: string) => new DomainError('ValidationError', `${what} is damaged: ${why}`);
  if (buffer.length < MAGIC.length + 4 + HASH_BYTES || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) throw damaged('it is not a Kennel data file');
  const end = buffer.length - HASH_BYTES;
  const actual = createHash('sha256').update(buffer.subarray(0, end)).digest();
  if (!actual.equals(buffer.subarray(end))) throw damaged('its checksum does not match its content');
  const headerLength = buffer.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  let parsed: { header: H; arrays: ArrayEntry[] };
  try {
    parsed = decodeRecord(buffer.subarray(start, start + headerLength).toString('utf8').trimEnd());
  } catch {
    throw damaged('its header is not JSON');
  }
  const dataBytes = parsed.arrays.reduce((sum, entry) => sum + entry.length * 4, 0);
  if (start + headerLength + dataBytes !== end) throw damaged('its arrays do not fill it');
  const storage = options.shared ? new SharedArrayBuffer(dataBytes) : new ArrayBuffer(dataBytes);
  new Uint8Array(storage).set(buffer.subarray(start + headerLength, end));
  const arrays: Record<string, TypedArray> = {};
  let offset = 0;
  for (const entry of parsed.arrays) {
    arrays[entry.name] = entry.type === 'float32' ? new Float32Array(storage, offset, entry.length) : new Int32Array(storage, offset, entry.length);
    offset += entry.length * 4;
  }
  return { header: parsed.header, arrays };
}

function align(length: number): number {
  return Math.ceil(length / 4) * 4;
}
