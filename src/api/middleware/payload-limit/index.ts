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

/** hono's body limit, answering with the caller's wire error after draining the request. */
export function payloadLimit(maxBytes: number, tooLarge: (c: Context) => Response): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: async (c) => {
      await drain(c.req.raw.body);
      return tooLarge(c);
    },
  });
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
