import type { MiddlewareHandler } from 'hono';
import type { Platform } from '../../../control/platform.ts';
import type { ApiEnv } from '../../env.ts';
import { sourceIp } from '../authorize/index.ts';

/** Routes that are not API calls: probes and scrapes leave no record. */
const UNAUDITED_PATHS = new Set(['/ping', '/metrics']);
const MAX_USER_AGENT_CHARACTERS = 512;

/**
 * Records every API request in the audit trail once it has been answered, as
 * CloudTrail records an event: who (as SigV4 verified them), what and on which
 * resource (as the authorizer saw it), the decision and the statements behind
 * it, where from, and the error the caller got. Headers other than the user
 * agent, bodies, signatures and keys' secrets are never recorded.
 */
export function auditTrail(platform: Platform): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next();
    if (UNAUDITED_PATHS.has(c.req.path)) return;
    const authorization = c.get('authorization');
    const errorCode = c.res.status >= 400 ? (c.res.headers.get('x-amzn-ErrorType') ?? `HTTP ${c.res.status}`) : undefined;
    const accessKeyId = c.get('accessKeyId');
    platform.audit.record({
      timeMs: platform.deps.clock.now(),
      principalArn: c.get('principal') ?? '',
      ...(accessKeyId ? { accessKeyId } : {}),
      action: authorization?.action ?? c.req.header('x-amz-target') ?? `${c.req.method} ${c.req.path}`,
      resource: authorization?.resource ?? '',
      // A request that never reached a decision (it failed authentication or validation) did nothing.
      decision: authorization?.decision ?? 'ImplicitDeny',
      statements: authorization?.statements ?? [],
      ...(authorization?.alsoAuthorized ? { alsoAuthorized: authorization.alsoAuthorized } : {}),
      sourceIp: sourceIp(c),
      userAgent: (c.req.header('user-agent') ?? '').slice(0, MAX_USER_AGENT_CHARACTERS),
      requestId: c.get('requestId') ?? '',
      ...(errorCode ? { errorCode: errorCode.split(':')[0]! } : {}),
    });
  };
}
