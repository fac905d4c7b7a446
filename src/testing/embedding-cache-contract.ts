import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../core/random.ts';
import type { Store } from '../store/store.ts';

/** A vector whose bits are the given uint32 patterns. */
export function vectorFromBits(bits: readonly number[]): Float32Array {
  const vector = new Float32Array(bits.length);
  new Uint32Array(vector.buffer).set(bits);
  return vector;
}

/** Bit patterns a float conversion would lose or change: NaN payloads (quiet and signalling), -0, infinities, subnormals. */
export const AWKWARD_BITS = [0x7fc00001, 0x7f800001, 0xffc12345, 0x80000000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x3f800000];

function randomVector(seed: number, length: number): Float32Array {
  const random = seededRandom(seed);
  return vectorFromBits(Array.from({ length }, () => Math.floor(random.next() * 2 ** 32)));
}

export function assertSameBits(actual: Float32Array | undefined, expected: Float32Array, label = 'vector'): void {
  assert.ok(actual instanceof Float32Array, `${label} should be a Float32Array`);
  assert.deepEqual(
    Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength),
    Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
    `${label} bytes differ`,
  );
}

/** The embedding cache's part of the Store contract, which store-contract.ts runs against every backend. */
export function describeEmbeddingCache(current: () => Store): void {
  describe('embeddings', () => {
    it('returns vectors bit for bit as written, NaN payloads, -0 and subnormals included', () => {
      const awkward = vectorFromBits(AWKWARD_BITS);
      const random = randomVector(1, 2048);
      current().embeddings.putMany('resnet:224', new Map([['img-1', awkward], ['img-2', random]]));
      const found = current().embeddings.getMany('resnet:224', ['img-1', 'img-2']);
      assertSameBits(found.get('img-1'), awkward, 'awkward');
      assertSameBits(found.get('img-2'), random, 'random');
    });

    it('stores only the bytes of a subarray, and returns vectors that own their buffers', () => {
      const backing = randomVector(2, 16);
      const view = backing.subarray(3, 11);
      current().embeddings.putMany('k', new Map([['img', view]]));
      const stored = current().embeddings.getMany('k', ['img']).get('img')!;
      assertSameBits(stored, view);
      assert.equal(stored.byteOffset, 0);
      assert.equal(stored.buffer.byteLength, stored.byteLength);
    });

    it('getMany returns only the digests it has, and nothing for an unknown key', () => {
      current().embeddings.putMany('k', new Map([['a', randomVector(3, 4)], ['c', randomVector(4, 4)]]));
      const found = current().embeddings.getMany('k', ['a', 'b', 'c', 'd']);
      assert.deepEqual([...found.keys()].sort(), ['a', 'c']);
      assert.equal(current().embeddings.getMany('other', ['a']).size, 0);
      assert.equal(current().embeddings.getMany('k', []).size, 0);
    });

    it('keeps embedding keys apart and counts per key', () => {
      const v1 = randomVector(5, 8);
      const v2 = randomVector(6, 8);
      current().embeddings.putMany('backbone-1', new Map([['img', v1], ['img-b', v1]]));
      current().embeddings.putMany('backbone-2', new Map([['img', v2]]));
      assertSameBits(current().embeddings.getMany('backbone-1', ['img']).get('img'), v1);
      assertSameBits(current().embeddings.getMany('backbone-2', ['img']).get('img'), v2);
      assert.equal(current().embeddings.count('backbone-1'), 2);
      assert.equal(current().embeddings.count('backbone-2'), 1);
      assert.equal(current().embeddings.count('backbone-3'), 0);
    });

    it('a second putMany of a digest replaces its vector; an empty putMany changes nothing', () => {
      current().embeddings.putMany('k', new Map([['img', randomVector(7, 8)]]));
      const replacement = randomVector(8, 8);
      current().embeddings.putMany('k', new Map([['img', replacement]]));
      current().embeddings.putMany('k', new Map());
      assertSameBits(current().embeddings.getMany('k', ['img']).get('img'), replacement);
      assert.equal(current().embeddings.count('k'), 1);
    });

    it('keeps copies: changing a vector after putMany, or a returned vector, changes nothing stored', () => {
      const original = randomVector(9, 8);
      const input = original.slice();
      current().embeddings.putMany('k', new Map([['img', input]]));
      input.fill(0);
      current().embeddings.getMany('k', ['img']).get('img')!.fill(1);
      assertSameBits(current().embeddings.getMany('k', ['img']).get('img'), original);
    });

    it('getMany handles more digests than SQL allows bound parameters in one statement', () => {
      const digests = Array.from({ length: 40_000 }, (_, i) => `img-${i}`);
      const entries = new Map(digests.map((d, i) => [d, new Float32Array([i, -i])]));
      current().embeddings.putMany('k', entries);
      const found = current().embeddings.getMany('k', [...digests, 'missing']);
      assert.equal(found.size, digests.length);
      assert.deepEqual([...found.get('img-39999')!], [39999, -39999]);
      assert.equal(current().embeddings.count('k'), digests.length);
    });
  });
}
