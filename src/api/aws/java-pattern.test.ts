import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { javaPattern, translateJavaPattern, UntranslatablePatternError } from './java-pattern.ts';
import { loadServiceModel } from './service-model.ts';

const sagemaker = loadServiceModel('sagemaker');

describe('Java patterns', () => {
  it('translates every pattern of the SageMaker subset', () => {
    const patterns = new Set(Object.values(sagemaker.shapes).flatMap((shape) => (shape.type === 'string' && shape.pattern ? [shape.pattern] : [])));
    assert.ok(patterns.size > 20);
    const untranslatable = [...patterns].filter((pattern) => {
      try {
        javaPattern(pattern);
        return false;
      } catch {
        return true;
      }
    });
    assert.deepEqual(untranslatable, []);
  });

  it('keeps the meaning of the SageMaker patterns', () => {
    const cases: [string, string, boolean][] = [
      ['^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}', 'abc-d', true],
      ['^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}', 'abc_d', false],
      ['^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}', 'abc-', false],
      ['(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)$', 'arn:aws:sagemaker:us-east-1:000000000000:model/dogs', true],
      ['(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)$', 'dogs-', false],
      ['^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$', 'Ünïcode tag 1', true],
      ['^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$', 'pipe|', false],
      ['^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$', 'arn:aws:iam::000000000000:role/kennel', true],
      ['^(?!\\s*$).+', '   ', false],
      ['^(?!\\s*$).+', 'x', true],
      ['.*', 'two\nlines', false],
      ['[\\S\\s]*', 'two\nlines', true],
      ['[\\S]+', 'a b', false],
    ];
    for (const [pattern, value, matches] of cases) assert.equal(javaPattern(pattern).test(value), matches, `${pattern} on ${JSON.stringify(value)}`);
  });

  it('translates Java-only syntax', () => {
    const cases: [string, string, boolean][] = [
      ['\\p{Alpha}+', 'abc', true],
      ['\\p{Alpha}+', 'abç', false],
      ['[\\p{Alnum}_]+', 'a_1', true],
      ['\\p{Punct}', '~', true],
      ['\\P{Digit}+', 'ab', true],
      ['\\p{IsAlphabetic}+', 'żółw', true],
      ['\\p{LD}+', 'a1ß', true],
      ['[\\p{all}]*', 'any\nthing', true],
      ['\\A[a-z]+\\z', 'abc', true],
      ['[a-z]+\\Z', 'abc', true],
      ['[a-z]++', 'abc', true],
      ['a{1,2}+b', 'aab', true],
      ['[\\w-.]+', 'a-b.c', true],
      ['[]a]+', ']a', true],
      ['\\s', '\u00a0', false],
      ['.', '\u0085', false],
      ['(?s).', '\u0085', true],
      ['(?i)abc', 'ABC', true],
      ['\\x41\\u0042\\0103', 'ABC', true],
      ['a\\-b\\_c\\:d', 'a-b_c:d', true],
    ];
    for (const [pattern, value, matches] of cases) assert.equal(javaPattern(pattern).test(value), matches, `${pattern} on ${JSON.stringify(value)}`);
    assert.deepEqual(translateJavaPattern('a\\/b{'), { source: 'a\\/b\\{', flags: '' });
  });

  it('refuses what it cannot translate, saying why', () => {
    for (const [pattern, reason] of [
      ['[\\p{Print}&&[^|]]+', /intersection/],
      ['[a[b]]', /nested/],
      ['\\p{InGreek}', /block/],
      ['a(?i)b', /group \(\?i/],
      ['(?>ab|a)c', /group \(\?>/],
      ['\\G', /escape \\G/],
    ] as const) {
      assert.throws(() => javaPattern(pattern), (error: unknown) => error instanceof UntranslatablePatternError && reason.test(error.message));
    }
  });
});
