import type { Context, Hono, MiddlewareHandler } from 'hono';
import { DomainError } from '../../core/errors.ts';
import { assertBucketName } from '../../domain/data/object-uri.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiEnv } from '../env.ts';

/** The largest object one PUT takes: a ResNet50 backbone is ~100 MB. The body is held in memory to check its signature. */
export const OBJECT_MAX_BYTES = 512 * 1024 * 1024;
const MAX_KEYS = 1000;

/**
 * Kennel's object store (`s3://bucket/key`) on its REST API, until the S3 wire API
 * serves it: put, get, list and delete objects, so users can place training data
 * and backbones where `s3://` channels read them. Paths: `/kennel/objects/<bucket>`
 * lists, `/kennel/objects/<bucket>/<key...>` is one object.
 */
export function registerObjectRoutes(app: Hono<ApiEnv>, deps: ApiDeps, allow: (key: string) => MiddlewareHandler<ApiEnv>): void {
  const objects = () => deps.platform.deps.objects;

  app.get('/objects/:bucket', allow('GET /kennel/objects/:bucket'), (c) => {
    const bucket = c.req.param('bucket');
    assertBucketName(bucket);
    const prefix = c.req.query('prefix') ?? '';
    const startAfter = c.req.query('startAfter');
    const page = objects().listPage(bucket, prefix, { ...(startAfter ? { startAfter } : {}), limit: MAX_KEYS + 1 });
    const truncated = page.length > MAX_KEYS;
    const shown = page.slice(0, MAX_KEYS);
    return c.json({
      bucket,
      prefix,
      objects: shown.map(({ key, sizeBytes, digest, lastModifiedMs, contentType }) => ({ key, sizeBytes, digest, lastModifiedMs, contentType })),
      ...(truncated ? { nextStartAfter: shown.at(-1)!.key } : {}),
    });
  });

  app.put('/objects/:bucket/*', allow('PUT /kennel/objects/:bucket/*'), async (c) => {
    const { bucket, key } = address(c);
    const body = new Uint8Array(await c.req.arrayBuffer());
    const stored = await objects().putBytes(bucket, key, body, c.req.header('content-type'));
    return c.json({ bucket, key, sizeBytes: stored.sizeBytes, digest: stored.digest }, 200);
  });

  app.get('/objects/:bucket/*', allow('GET /kennel/objects/:bucket/*'), async (c) => {
    const { bucket, key } = address(c);
    const object = objects().head(bucket, key);
    if (!object) throw new DomainError('NotFound', `s3://${bucket}/${key} does not exist`);
    const bytes = await objects().get(bucket, key);
    c.header('content-type', object.contentType ?? 'application/octet-stream');
    c.header('x-amz-meta-sha256', object.digest);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200);
  });

  app.delete('/objects/:bucket/*', allow('DELETE /kennel/objects/:bucket/*'), (c) => {
    const { bucket, key } = address(c);
    if (!objects().delete(bucket, key)) throw new DomainError('NotFound', `s3://${bucket}/${key} does not exist`);
    return c.body(null, 204);
  });
}

function address(c: Context<ApiEnv>): { bucket: string; key: string } {
  return objectAddress(new URL(c.req.url).pathname);
}

/** Bucket and key from the raw path: a key keeps its slashes and any character, percent-encoded on the wire. */
export function objectAddress(path: string): { bucket: string; key: string } {
  const rest = path.slice('/kennel/objects/'.length);
  const slash = rest.indexOf('/');
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new DomainError('ValidationError', `The object path ${JSON.stringify(part)} is not valid percent-encoding`);
    }
  };
  return { bucket: decode(rest.slice(0, slash)), key: decode(rest.slice(slash + 1)) };
}
