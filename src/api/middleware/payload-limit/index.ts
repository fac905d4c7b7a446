import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * How much of an oversized body is read and thrown away before answering 413.
 * Answering without reading makes the server reset the connection while the
 * client is still sending, and clients (the AWS SDK among them) then fail with
 * EPIPE instead of reporting the 413.
 */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/** Control-plane requests are small; SageMaker's largest (CreateTrainingJob with 100 hyperparameters) is well under this. */
export const CONTROL_MAX_BYTES = 1024 * 1024;

/**
 * hono's body limit, answering with the caller's wire error after draining the request.
 *
 * A request that declares its length is decided from that header here, as hono's bodyLimit
 * would decide it: bodyLimit first asks for the request's body stream, which makes
 * @hono/node-server build a whole web Request around the socket, about 0.1 ms of a warm Lambda
 * Invoke in Kennel (bench/functions). Node's HTTP parser reads exactly the
 * declared length, so the decision holds. A chunked body, or one of no declared length, goes
 * through bodyLimit, which counts it.
 */
export function payloadLimit(maxBytes: number, tooLarge: (c: Context) => Response): MiddlewareHandler {
  const onError = async (c: Context) => {
    await drain(c.req.raw.body);
    return tooLarge(c);
  };
  const counted = bodyLimit({ maxSize: maxBytes, onError });
  return async (c, next) => {
    if (c.req.header('transfer-encoding') !== undefined) return counted(c, next);
    const declared = c.req.header('content-length');
    const length = declared === undefined || !/^\d+$/.test(declared) ? undefined : Number(declared);
    if (length === undefined) return counted(c, next);
    return length > maxBytes ? onError(c) : next();
  };
}

async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body || body.locked) return;
  const reader = body.getReader();
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > DRAIN_LIMIT_BYTES) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client went away: nothing left to drain.
  }
}
