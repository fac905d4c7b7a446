import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { DomainError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/logger.ts';
import type { WireError, WireErrorMapper } from '../../wire/wire-error.ts';

/**
 * The error handler of one service: every thrown value becomes that service's wire
 * error. A DomainError keeps its code and message; anything else is a bug, logged
 * with its stack and answered as an internal failure that names only the request id.
 */
export function wireErrorHandler(map: WireErrorMapper, logger: Logger): ErrorHandler {
  return (error, c) => {
    const wire = toWireError(error, map, c, logger);
    return sendWireError(c, wire);
  };
}

export function sendWireError(c: Context, wire: WireError): Response {
  c.header('x-amzn-ErrorType', wire.type);
  return c.json(wire.body, wire.status as 400);
}

function toWireError(error: unknown, map: WireErrorMapper, c: Context, logger: Logger): WireError {
  if (error instanceof DomainError) return map(error.code, error.message, error.details);
  if (error instanceof HTTPException && error.status < 500) {
    return map('ValidationError', error.message || 'The request is not valid', {});
  }
  const requestId = (c.get('requestId') as string | undefined) ?? 'unknown';
  logger.error('unhandled error while serving a request', {
    requestId,
    method: c.req.method,
    path: c.req.path,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return map('Internal', `An internal error occurred (request id ${requestId}); the server log has the details`, {});
}
