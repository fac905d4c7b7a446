import type { Context, MiddlewareHandler } from 'hono';
import { DomainError } from '../../../core/errors.ts';
import { DEFAULT_REGION } from '../../../domain/iam/arn.ts';
import type { Platform } from '../../../control/platform.ts';
import { PERMISSIONS, type RouteInput } from '../../authorization/permissions.ts';
import type { ApiEnv } from '../../env.ts';

/**
 * Authorises one call with the permissions table's entry `key`, after SigV4
 * has named the caller. Throws DomainError('AccessDenied') in AWS's words,
 * naming the action and resource, and leaves the outcome on the context for
 * the audit trail either way.
 */
export function authorizeCall(c: Context<ApiEnv>, platform: Platform, key: string, input: Record<string, unknown>): void {
  const rule = Object.hasOwn(PERMISSIONS, key) ? PERMISSIONS[key] : undefined;
  if (!rule) throw new DomainError('Internal', `No permission is declared for ${key}`);
  const caller = platform.credentials.caller(c.get('accessKeyId'));
  if (!caller) throw new DomainError('UnrecognizedClient', 'The security token included in the request is invalid.');
  const checks = rule.checks(input, { platform, caller });
  const first = checks[0]!;
  if (rule.public) {
    c.set('authorization', { action: first.action, resource: first.resource, decision: 'Allow', statements: [] });
    return;
  }
  const result = platform.authorizer.authorize(caller, checks, {
    nowMs: platform.deps.clock.now(),
    sourceIp: sourceIp(c),
    secureTransport: new URL(c.req.url).protocol === 'https:',
    region: DEFAULT_REGION,
    requestTags: rule.requestTags?.(input) ?? [],
  });
  const decided = result.refused ?? first;
  const others = result.decision === 'Allow' ? checks.slice(1).map(({ action, resource }) => ({ action, resource })) : [];
  c.set('authorization', {
    action: decided.action,
    resource: decided.resource,
    decision: result.decision,
    statements: result.statements,
    ...(others.length > 0 ? { alsoAuthorized: others } : {}),
  });
  if (result.decision === 'Allow') return;
  const why =
    result.decision === 'ExplicitDeny' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${decided.action} action`;
  throw new DomainError('AccessDenied', `User: ${caller.arn} is not authorized to perform: ${decided.action} on resource: ${decided.resource} ${why}`, {
    action: decided.action,
    resource: decided.resource,
  });
}

/** The REST route's middleware: authorises `METHOD path` (the route as registered) with its params and query. */
export function authorizeRoute(platform: Platform, key: string): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const input: RouteInput = { params: c.req.param() as Record<string, string>, query: c.req.query(), path: new URL(c.req.url).pathname, ...(await jsonBody(c)) };
    authorizeCall(c, platform, key, input as unknown as Record<string, unknown>);
    await next();
  };
}

/** The body of a JSON request, for rules that name a resource the body names; the route reads it again (Hono keeps it) and refuses what does not parse. */
async function jsonBody(c: Context<ApiEnv>): Promise<{ body?: unknown }> {
  if (!(c.req.header('content-type') ?? '').startsWith('application/json')) return {};
  try {
    return { body: JSON.parse(await c.req.text()) };
  } catch {
    return {};
  }
}

/** The peer's address; Node reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d. */
export function sourceIp(c: Context): string {
  const address = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
