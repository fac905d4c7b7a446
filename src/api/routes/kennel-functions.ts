import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { DomainError } from '../../core/errors.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiEnv } from '../env.ts';
import { parseWith } from '../schemas.ts';

const metricsQuerySchema = z.object({ windowSeconds: z.coerce.number().int().min(1).max(3600).optional() }).strict();
const codeQuerySchema = z.object({ version: z.string().min(1).max(128).optional() }).strict();
const redriveSchema = z.object({ requestIds: z.array(z.string().min(1).max(64)).max(10_000).optional() }).strict();

/**
 * What Lambda keeps in CloudWatch and SQS and Kennel keeps itself: a
 * function's recent metrics (for `kennel functions watch`), the async events
 * that failed every attempt with their redrive, and the deployment package
 * behind GetFunction's Code.Location.
 */
export function registerFunctionRoutes(app: Hono<ApiEnv>, deps: ApiDeps, allow: (key: string) => MiddlewareHandler<ApiEnv>): void {
  const { platform } = deps;

  app.get('/functions/:name/metrics', allow('GET /kennel/functions/:name/metrics'), (c) => {
    const query = parseWith(metricsQuerySchema, c.req.query());
    const fn = platform.functions.get(c.req.param('name'));
    return c.json(platform.functionMetrics.snapshot(fn.name, deps.clock.now(), (query.windowSeconds ?? 60) * 1000));
  });

  app.get('/functions/:name/dead-letters', allow('GET /kennel/functions/:name/dead-letters'), (c) => {
    const events = platform.asyncInvocations.deadLetters(c.req.param('name'));
    return c.json({
      events: events.map((event) => ({
        requestId: event.requestId,
        qualifier: event.qualifier ?? '$LATEST',
        enqueuedAtMs: event.enqueuedAtMs,
        failedAtMs: event.failedAtMs,
        attempts: event.attempts,
        condition: event.failedCondition,
        lastError: event.lastError,
        deliveryError: event.deliveryError,
        payload: Buffer.from(event.payload, 'base64').toString('utf8'),
      })),
    });
  });

  app.post('/functions/:name/dead-letters/redrive', allow('POST /kennel/functions/:name/dead-letters/redrive'), async (c) => {
    const body = parseWith(redriveSchema, parseBody(await c.req.text()));
    return c.json({ redriven: platform.asyncInvocations.redrive(c.req.param('name'), body.requestIds) });
  });

  app.get('/functions/:name/code', allow('GET /kennel/functions/:name/code'), async (c) => {
    // GetFunction's Code.Location is presigned: the signature's own parameters are not the route's.
    const query = parseWith(codeQuerySchema, Object.fromEntries(Object.entries(c.req.query()).filter(([key]) => !key.startsWith('X-Amz-'))));
    const { settings } = platform.functions.resolve(c.req.param('name'), query.version);
    const zip = await platform.deps.artifacts.get(settings.code.digest);
    return c.body(Buffer.from(zip), 200, { 'content-type': 'application/zip' });
  });
}

/** An empty body redrives everything; anything else must be JSON. */
function parseBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new DomainError('ValidationError', 'The request body is not valid JSON');
  }
}
