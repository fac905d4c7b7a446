import type { Hono, MiddlewareHandler } from 'hono';
import { AUDIT_RETENTION_MS } from '../../control/audit.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiEnv } from '../env.ts';
import { auditQuerySchema, parseWith, usageQuerySchema } from '../schemas.ts';

/**
 * What IAM's own API does not offer: the audit trail (as CloudTrail's
 * LookupEvents reads it), and least privilege from it: the minimal policy for
 * what a principal used, and what it was granted but never used.
 */
export function registerIamRoutes(app: Hono<ApiEnv>, deps: ApiDeps, allow: (key: string) => MiddlewareHandler<ApiEnv>): void {
  const { platform } = deps;
  const since = (query: { since?: number }) => query.since ?? deps.clock.now() - AUDIT_RETENTION_MS;

  app.get('/iam/audit-events', allow('GET /kennel/iam/audit-events'), (c) => {
    const query = parseWith(auditQuerySchema, c.req.query());
    const events = platform.audit.query({
      ...(query.principal ? { principalArn: query.principal } : {}),
      ...(query.action ? { action: query.action } : {}),
      ...(query.decision ? { decision: query.decision } : {}),
      ...(query.from !== undefined ? { fromMs: query.from } : {}),
      ...(query.to !== undefined ? { toMs: query.to } : {}),
      limit: query.limit ?? 1000,
    });
    return c.json({ events });
  });

  app.get('/iam/suggested-policy', allow('GET /kennel/iam/suggested-policy'), (c) => {
    const query = parseWith(usageQuerySchema, c.req.query());
    return c.json({ principal: query.principal, since: since(query), ...platform.usage.suggest(query.principal, since(query)) });
  });

  app.get('/iam/unused-permissions', allow('GET /kennel/iam/unused-permissions'), (c) => {
    const query = parseWith(usageQuerySchema, c.req.query());
    return c.json({ principal: query.principal, since: since(query), unused: platform.usage.unused(query.principal, since(query)) });
  });
}
