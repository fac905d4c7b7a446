/**
 * The pipe protocol between Kennel and an inference script's worker process
 * (bootstraps/): each message is a JSON header and a byte body, framed as
 *
 *   u32 big-endian header length, header (UTF-8 JSON), u32 big-endian body length, body
 *
 * on file descriptors 3 (to the worker) and 4 (from it), so whatever the
 * script prints on stdout and stderr is only its log, never the protocol.
 */

export interface Frame<Header> {
  header: Header;
  body: Uint8Array;
}

/** The largest header or body a frame may carry: InvokeEndpoint's 6 MB payload, and its answer, with room to spare. */
export const MAX_FRAME_PART_BYTES = 64 * 1024 * 1024;

export function encodeFrame(header: object, body: Uint8Array = new Uint8Array(0)): Buffer {
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(8 + headerBytes.length + body.byteLength);
  out.writeUInt32BE(headerBytes.length, 0);
  headerBytes.copy(out, 4);
  out.writeUInt32BE(body.byteLength, 4 + headerBytes.length);
  out.set(body, 8 + headerBytes.length);
  return out;
}

/**
 * Reads frames out of a byte stream as chunks arrive. A length over the limit or a header that
 * is not a JSON object means the other side is not speaking the protocol: `push` throws, and
 * the stream is not to be read further.
 */
export class FrameDecoder<Header> {
  private buffered: Buffer[] = [];
  private size = 0;
  /** Bytes the next frame needs before it is worth looking again: chunks are joined only then, so a large body costs one copy, not one per chunk. */
  private needed = 4;

  push(chunk: Buffer): Frame<Header>[] {
    this.buffered.push(chunk);
    this.size += chunk.length;
    const frames: Frame<Header>[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === undefined) return frames;
      frames.push(frame);
    }
  }

  private next(): Frame<Header> | undefined {
    if (this.size < this.needed) return undefined;
    const data = this.flatten();
    const headerLength = data.readUInt32BE(0);
    if (headerLength > MAX_FRAME_PART_BYTES) throw new Error(`a frame header of ${headerLength} bytes, over the ${MAX_FRAME_PART_BYTES} byte limit`);
    this.needed = 8 + headerLength;
    if (data.length < this.needed) return undefined;
    const bodyLength = data.readUInt32BE(4 + headerLength);
    if (bodyLength > MAX_FRAME_PART_BYTES) throw new Error(`a frame body of ${bodyLength} bytes, over the ${MAX_FRAME_PART_BYTES} byte limit`);
    const end = 8 + headerLength + bodyLength;
    this.needed = end;
    if (data.length < end) return undefined;
    this.needed = 4;
    let header: unknown;
    try {
      header = JSON.parse(data.subarray(4, 4 + headerLength).toString('utf8'));
    } catch {
      throw new Error('a frame header that is not JSON');
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error('a frame header that is not a JSON object');
    // A copy: the body outlives the buffer it arrived in.
    const body = new Uint8Array(data.subarray(8 + headerLength, end));
    const rest = data.subarray(end);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return { header: header as Header, body };
  }

  private flatten(): Buffer {
    if (this.buffered.length > 1) this.buffered = [Buffer.concat(this.buffered)];
    return this.buffered[0];
  }
}
