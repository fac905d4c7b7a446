import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../../env.ts';

/** Every response carries `x-amzn-RequestId`, as AWS services do; the SDKs surface it in errors. */
export function requestId(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const id = randomUUID();
    c.set('requestId', id);
    c.header('x-amzn-RequestId', id);
    await next();
  };
}
