import { DomainError } from '../../core/errors.ts';
import { ACCOUNT_ID, DEFAULT_REGION } from '../iam/arn.ts';

/**
 * Object URIs as training input channels, output paths and model data URLs
 * name them (DESIGN §4): `s3://bucket/key`, resolved in Kennel's own object
 * store, and `file:///absolute/path`, as SageMaker local mode accepts. Keys are
 * literal, as in the AWS CLI and SDKs: no percent-decoding in s3:// URIs.
 */

export interface S3ObjectUri {
  scheme: 's3';
  bucket: string;
  /** Empty for a bucket root; otherwise an object key or a key prefix. */
  key: string;
}

export interface FileObjectUri {
  scheme: 'file';
  /** Absolute and percent-decoded. */
  path: string;
}

export type ObjectUri = S3ObjectUri | FileObjectUri;

/** The bucket the SageMaker SDK's Session.default_bucket() names for this region and account. */
export const DEFAULT_BUCKET = `sagemaker-${DEFAULT_REGION}-${ACCOUNT_ID}`;

export const MAX_OBJECT_KEY_BYTES = 1024;

const EXAMPLES = 's3://bucket/path/to/object or file:///absolute/path';

/** Names S3 keeps for its own endpoints and access points. */
const RESERVED_BUCKET_PREFIXES = ['xn--', 'sthree-'];
const RESERVED_BUCKET_SUFFIXES = ['-s3alias', '--ol-s3'];

/** The S3 bucket naming rule `name` breaks, or undefined when it is a valid name. */
function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `must be 3 to 63 characters long, not ${name.length}`;
  if (!/^[a-z0-9.-]+$/.test(name)) return 'may contain only lowercase letters, digits, dots and hyphens';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'must start and end with a lowercase letter or a digit';
  if (name.includes('..')) return 'must not contain two adjacent dots';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'must not be formatted as an IP address';
  const reserved =
    RESERVED_BUCKET_PREFIXES.find((prefix) => name.startsWith(prefix)) ??
    RESERVED_BUCKET_SUFFIXES.find((suffix) => name.endsWith(suffix));
  if (reserved !== undefined) return `must not start or end with ${JSON.stringify(reserved)}, which S3 reserves`;
  return undefined;
}

/** UTF-8 length of `text`, or undefined when it holds an unpaired surrogate (which UTF-8 cannot encode). */
function utf8ByteLength(text: string): number | undefined {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return undefined;
      bytes += 4;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return undefined;
    else bytes += 3;
  }
  return bytes;
}

/** The S3 key rule `key` breaks, or undefined; an empty key (a bucket root or prefix) is fine here. */
function keyProblem(key: string): string | undefined {
  const bytes = utf8ByteLength(key);
  if (bytes === undefined) return 'contains an unpaired UTF-16 surrogate, which has no UTF-8 encoding';
  if (bytes > MAX_OBJECT_KEY_BYTES) return `is ${bytes} bytes in UTF-8, over S3's limit of ${MAX_OBJECT_KEY_BYTES}`;
  return undefined;
}

function invalidUri(uri: string, problem: string, fix: string): DomainError {
  return new DomainError('ValidationError', `Object URI ${JSON.stringify(uri)} is invalid: ${problem}. ${fix}`, { uri });
}

export function assertBucketName(bucket: string): void {
  const problem = bucketNameProblem(bucket);
  if (problem !== undefined) {
    throw new DomainError(
      'ValidationError',
      `Bucket name ${JSON.stringify(bucket)} is invalid: it ${problem} (S3 bucket naming rules), e.g. ${DEFAULT_BUCKET}`,
      { bucket },
    );
  }
}

function assertKeyRule(key: string, problem: string | undefined): void {
  if (problem !== undefined) throw new DomainError('ValidationError', `Object key ${JSON.stringify(key)} ${problem}`, { key });
}

/** An object's key: non-empty, well-formed Unicode, at most 1024 bytes in UTF-8. */
export function assertObjectKey(key: string): void {
  assertKeyRule(key, key === '' ? 'is empty: an object needs a name within its bucket' : keyProblem(key));
}

/** A key prefix (or a key to list after): as an object key, but it may be empty. */
export function assertKeyPrefix(prefix: string): void {
  assertKeyRule(prefix, keyProblem(prefix));
}

function parseS3Uri(uri: string): S3ObjectUri {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '') throw invalidUri(uri, 'it names no bucket', 'Write s3://bucket/key');
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem !== undefined) {
    throw invalidUri(uri, `bucket name ${JSON.stringify(bucket)} ${bucketProblem}`, `Use a bucket named by S3's rules, e.g. s3://${DEFAULT_BUCKET}/...`);
  }
  const problem = keyProblem(key);
  if (problem !== undefined) throw invalidUri(uri, `its key ${problem}`, 'Use a shorter key made of valid Unicode characters');
  return { scheme: 's3', bucket, key };
}

function parseFileUri(uri: string): FileObjectUri {
  const threeSlashes = 'Write an absolute path after three slashes, e.g. file:///data/train';
  if (!uri.startsWith('file://')) throw invalidUri(uri, 'a file URI must start with file://', threeSlashes);
  const rest = uri.slice('file://'.length);
  const slash = rest.indexOf('/');
  const host = slash < 0 ? rest : rest.slice(0, slash);
  const encodedPath = slash < 0 ? '' : rest.slice(slash);
  if (host !== '' && host.toLowerCase() !== 'localhost') {
    // file://data/train reads as host "data": the usual slip for a relative or two-slash path.
    throw invalidUri(uri, `it names host ${JSON.stringify(host)}, and only files on this machine can be read`, `${threeSlashes} (or file://localhost/data/train)`);
  }
  if (encodedPath === '') throw invalidUri(uri, 'it has no path', threeSlashes);
  if (/[?#]/.test(encodedPath)) {
    throw invalidUri(uri, 'a query or fragment (? or #) has no meaning in a file path', 'Percent-encode those characters in the path as %3F and %23');
  }
  // Decoding %2F would turn one path segment into two.
  if (/%2f/i.test(encodedPath)) throw invalidUri(uri, 'it encodes a slash as %2F inside a path segment', 'Write the slash itself');
  let path: string;
  try {
    path = decodeURIComponent(encodedPath);
  } catch {
    throw invalidUri(uri, 'its percent-encoding is malformed or is not UTF-8', 'Encode each special byte as %XX with two hexadecimal digits');
  }
  if (path.includes('\0')) throw invalidUri(uri, 'its path contains a NUL character (%00)', 'Remove it');
  return { scheme: 'file', path };
}

export function parseObjectUri(uri: string): ObjectUri {
  if (uri.startsWith('s3://')) return parseS3Uri(uri);
  if (uri.startsWith('file:')) return parseFileUri(uri);
  throw invalidUri(uri, 'the scheme must be s3:// or file://', `Write ${EXAMPLES}`);
}

/** `s3://bucket/key`; an empty key gives the bucket root `s3://bucket/`. parseObjectUri reads it back unchanged. */
export function formatS3Uri(bucket: string, key: string): string {
  assertBucketName(bucket);
  assertKeyPrefix(key);
  return `s3://${bucket}/${key}`;
}

/**
 * Joins key parts with exactly one slash at each seam, as an output path and a
 * job name make an output key: `joinS3Key('output/', '/job-1', 'model.tar.gz')`
 * is `output/job-1/model.tar.gz`. Empty parts are skipped; a leading slash of
 * the first piece and a trailing slash of the last are kept, because in S3
 * they are part of the key (`joinS3Key('data', 'train/')` is the prefix `data/train/`).
 */
export function joinS3Key(prefix: string, ...parts: string[]): string {
  let key = prefix;
  for (const part of parts) {
    if (part === '') continue;
    key = key === '' ? part : `${key.replace(/\/+$/, '')}/${part.replace(/^\/+/, '')}`;
  }
  assertKeyPrefix(key);
  return key;
}
