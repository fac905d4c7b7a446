import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import {
  DEFAULT_BUCKET,
  assertBucketName,
  assertObjectKey,
  formatS3Uri,
  joinS3Key,
  parseObjectUri,
} from './object-uri.ts';

/** Asserts a ValidationError whose message mentions every part. */
function assertInvalid(action: () => unknown, parts: readonly string[]): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(isDomainError(error), `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, 'ValidationError');
    for (const part of parts) assert.ok(error.message.includes(part), `${JSON.stringify(error.message)} should mention ${part}`);
    return true;
  });
}

describe('parseObjectUri: s3', () => {
  const cases: [string, string, string][] = [
    ['s3://my-bucket/path/to/object.jpg', 'my-bucket', 'path/to/object.jpg'],
    ['s3://my-bucket/train/', 'my-bucket', 'train/'],
    ['s3://my-bucket/', 'my-bucket', ''],
    ['s3://my-bucket', 'my-bucket', ''],
    ['s3://a.b-c.123/x', 'a.b-c.123', 'x'],
    ['s3://abc//double//slash', 'abc', '/double//slash'],
    // Keys are literal, as the AWS CLI reads them: no percent-decoding, ? and # are characters.
    ['s3://abc/a%20b?c#d', 'abc', 'a%20b?c#d'],
    ['s3://abc/dogs/001.Affenpinscher/ünïcödé 🐕.jpg', 'abc', 'dogs/001.Affenpinscher/ünïcödé 🐕.jpg'],
  ];
  for (const [uri, bucket, key] of cases) {
    it(`reads ${uri}`, () => {
      assert.deepEqual(parseObjectUri(uri), { scheme: 's3', bucket, key });
    });
  }

  it('names the default bucket as the SageMaker SDK does', () => {
    assert.equal(DEFAULT_BUCKET, 'sagemaker-us-east-1-000000000000');
    assert.deepEqual(parseObjectUri(`s3://${DEFAULT_BUCKET}/x`), { scheme: 's3', bucket: DEFAULT_BUCKET, key: 'x' });
  });

  it('accepts a key of exactly 1024 UTF-8 bytes and refuses 1025', () => {
    const key = 'é'.repeat(512);
    assert.equal(parseObjectUri(`s3://abc/${key}`).scheme, 's3');
    assertInvalid(() => parseObjectUri(`s3://abc/${key}x`), ['1025 bytes', '1024']);
    // 4-byte characters count as 4 bytes, not as their two UTF-16 units.
    assert.equal(parseObjectUri(`s3://abc/${'🐕'.repeat(256)}`).scheme, 's3');
    assertInvalid(() => parseObjectUri(`s3://abc/${'🐕'.repeat(256)}x`), ['1025 bytes']);
  });

  it('refuses a key with an unpaired surrogate', () => {
    assertInvalid(() => parseObjectUri('s3://abc/bad\ud800key'), ['unpaired']);
    assertInvalid(() => parseObjectUri('s3://abc/bad\udc00'), ['unpaired']);
  });

  const badBuckets: [string, string][] = [
    ['ab', '3 to 63 characters'],
    ['a'.repeat(64), '3 to 63 characters'],
    ['My-Bucket', 'lowercase letters, digits, dots and hyphens'],
    ['my_bucket', 'lowercase letters, digits, dots and hyphens'],
    ['-bucket', 'start and end'],
    ['bucket-', 'start and end'],
    ['.bucket', 'start and end'],
    ['my..bucket', 'two adjacent dots'],
    ['192.168.5.4', 'IP address'],
    ['xn--bucket', 'S3 reserves'],
    ['bucket-s3alias', 'S3 reserves'],
  ];
  for (const [bucket, rule] of badBuckets) {
    it(`refuses bucket ${JSON.stringify(bucket)}: ${rule}`, () => {
      const uri = `s3://${bucket}/key`;
      assertInvalid(() => parseObjectUri(uri), [JSON.stringify(uri), JSON.stringify(bucket), rule]);
      assertInvalid(() => assertBucketName(bucket), [JSON.stringify(bucket), rule]);
    });
  }

  it('refuses a URI without a bucket', () => {
    assertInvalid(() => parseObjectUri('s3:///key'), ['no bucket']);
    assertInvalid(() => parseObjectUri('s3://'), ['no bucket']);
  });
});

describe('parseObjectUri: file', () => {
  const cases: [string, string][] = [
    ['file:///data/train', '/data/train'],
    ['file:///data/train/', '/data/train/'],
    ['file:///', '/'],
    ['file://localhost/data/train', '/data/train'],
    ['file://LOCALHOST/data', '/data'],
    ['file:///data/my%20images/%C3%BC.jpg', '/data/my images/ü.jpg'],
    ['file:///data/100%25', '/data/100%'],
  ];
  for (const [uri, path] of cases) {
    it(`reads ${uri}`, () => {
      assert.deepEqual(parseObjectUri(uri), { scheme: 'file', path });
    });
  }

  const refused: [string, string][] = [
    ['file://data/train', 'host "data"'],
    ['file://example.com/etc/passwd', 'host "example.com"'],
    ['file:data/train', 'must start with file://'],
    ['file:/data/train', 'must start with file://'],
    ['file://', 'no path'],
    ['file://localhost', 'no path'],
    ['file:///data/a%2Fb', '%2F'],
    ['file:///data/a%zz', 'percent-encoding'],
    ['file:///data/%FF', 'percent-encoding'],
    ['file:///data/a%00b', 'NUL'],
    ['file:///data/a?b', 'query or fragment'],
    ['file:///data/a#b', 'query or fragment'],
  ];
  for (const [uri, rule] of refused) {
    it(`refuses ${uri}: ${rule}`, () => {
      assertInvalid(() => parseObjectUri(uri), [JSON.stringify(uri), rule]);
    });
  }

  it('tells how to write an absolute path when the host is really a relative path', () => {
    assertInvalid(() => parseObjectUri('file://data/train'), ['file:///data/train']);
  });
});

describe('parseObjectUri: other schemes', () => {
  for (const uri of ['https://example.com/model.tar.gz', 'S3://bucket/key', '/data/train', 'data/train', '', 's3:/bucket/key']) {
    it(`refuses ${JSON.stringify(uri)}, naming both accepted forms`, () => {
      assertInvalid(() => parseObjectUri(uri), [JSON.stringify(uri), 's3://', 'file://']);
    });
  }
});

describe('formatS3Uri', () => {
  it('writes URIs that parse back to the same bucket and key', () => {
    for (const key of ['', 'a', 'train/', 'dogs/ünï 🐕.jpg', '/leading', 'a%20b?c#d']) {
      const uri = formatS3Uri('my-bucket', key);
      assert.equal(uri, `s3://my-bucket/${key}`);
      assert.deepEqual(parseObjectUri(uri), { scheme: 's3', bucket: 'my-bucket', key });
    }
  });

  it('refuses a bad bucket or key', () => {
    assertInvalid(() => formatS3Uri('Bad', 'k'), ['"Bad"', 'lowercase']);
    assertInvalid(() => formatS3Uri('good', 'x'.repeat(1025)), ['1025 bytes']);
  });
});

describe('joinS3Key', () => {
  const cases: [string, string[], string][] = [
    ['output', ['job-1', 'model.tar.gz'], 'output/job-1/model.tar.gz'],
    ['output/', ['/job-1/', 'model.tar.gz'], 'output/job-1/model.tar.gz'],
    ['output//', ['//job-1'], 'output/job-1'],
    ['', ['job-1', 'model.tar.gz'], 'job-1/model.tar.gz'],
    ['', [], ''],
    ['output', [], 'output'],
    ['output', ['', 'x', ''], 'output/x'],
    ['data', ['train/'], 'data/train/'],
    ['/rooted', ['x'], '/rooted/x'],
    ['', ['/rooted'], '/rooted'],
  ];
  for (const [prefix, parts, key] of cases) {
    it(`joins ${JSON.stringify([prefix, ...parts])} as ${JSON.stringify(key)}`, () => {
      assert.equal(joinS3Key(prefix, ...parts), key);
    });
  }

  it('refuses a result over 1024 bytes', () => {
    assertInvalid(() => joinS3Key('a'.repeat(600), 'b'.repeat(600)), ['1201 bytes']);
  });
});

describe('assertObjectKey', () => {
  it('accepts an ordinary key and refuses an empty, oversized or malformed one', () => {
    assertObjectKey('dogs/001.Affenpinscher/a.jpg');
    assertInvalid(() => assertObjectKey(''), ['empty']);
    assertInvalid(() => assertObjectKey('x'.repeat(1025)), ['1025 bytes']);
    assertInvalid(() => assertObjectKey('\ud800'), ['unpaired']);
  });
});
