import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logTail } from './log-tail.ts';

const decode = (tail: string) => Buffer.from(tail, 'base64');

describe('logTail', () => {
  const cases: Array<[string, string, number, string]> = [
    ['keeps a short log whole', 'START\nEND\n', 4096, 'START\nEND\n'],
    ['keeps a log of exactly the limit whole', 'abcd', 4, 'abcd'],
    ['keeps the last bytes of a long log', 'abcdef', 4, 'cdef'],
    ['never starts inside a two-byte character', 'xé€', 4, '€'], // é is 2 bytes, € 3: the last 4 bytes start inside é
    ['never starts inside a three-byte character', 'a€€', 5, '€'],
    ['never starts inside a four-byte character', 'a🐕b', 4, 'b'],
    ['keeps a character that starts exactly at the cut', 'ab🐕', 4, '🐕'],
    ['an empty log is empty', '', 4096, ''],
  ];
  for (const [name, logs, maxBytes, kept] of cases) {
    it(name, () => {
      const tail = decode(logTail(logs, maxBytes));
      assert.equal(tail.toString('utf8'), kept);
      assert.ok(tail.length <= maxBytes);
    });
  }

  it('defaults to the 4 KB of X-Amz-Log-Result', () => {
    const logs = `${'é'.repeat(3000)}REPORT`;
    const tail = decode(logTail(logs));
    assert.ok(tail.length <= 4096 && tail.length >= 4095);
    assert.ok(tail.toString('utf8').endsWith('REPORT'));
    assert.ok(!tail.toString('utf8').includes('\uFFFD'));
  });
});
