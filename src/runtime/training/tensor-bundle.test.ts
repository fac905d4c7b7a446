import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { decodeBundle, encodeBundle } from './tensor-bundle.ts';

const header = { epoch: 3, losses: [0.5, Number.NaN, Infinity], name: 'ünï' };
const arrays = { w: Float32Array.from([1.5, -0, Number.NaN, 3e-40]), labels: Int32Array.from([0, 7, -1]), odd: new Float32Array(0) };

it('round-trips a header and arrays bit for bit, NaN and -0 included, also into shared memory', () => {
  const bytes = encodeBundle(header, arrays);
  for (const shared of [false, true]) {
    const { header: h, arrays: a } = decodeBundle<typeof header>(bytes, 'the file', { shared });
    assert.deepEqual(h, header);
    assert.deepEqual(Buffer.from(a.w.buffer, a.w.byteOffset, a.w.byteLength), Buffer.from(arrays.w.buffer));
    assert.deepEqual([...a.labels], [0, 7, -1]);
    assert.equal(a.odd.length, 0);
    assert.equal(a.w.buffer instanceof SharedArrayBuffer, shared);
  }
});

it('refuses a damaged, truncated or foreign file, naming it', () => {
  const bytes = encodeBundle(header, arrays);
  const flipped = bytes.slice();
  flipped[flipped.length - 40] ^= 1;
  const cases: [Uint8Array, RegExp][] = [
    [flipped, /checksum does not match/],
    [bytes.slice(0, bytes.length - 3), /checksum does not match/],
    [new TextEncoder().encode('{"not":"a bundle"} and some more bytes to be long enough'), /not a Kennel data file/],
  ];
  for (const [damaged, message] of cases) {
    assert.throws(() => decodeBundle(damaged, 'checkpoint of job x'), (error: unknown) => error instanceof DomainError && /checkpoint of job x is damaged/.test(error.message) && message.test(error.message));
  }
});
