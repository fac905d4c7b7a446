import type { AuditDecision } from '../domain/iam/entities.ts';

/** Per-request values the middleware sets for the routes (Hono `c.get`). */
export interface ApiVariables {
  requestId: string;
  /** ARN-style principal of the verified SigV4 caller. */
  principal: string;
  accessKeyId: string;
  signingService: string;
  /** The authorizer's decision, for the audit trail. */
  authorization?: AuthorizationOutcome;
}

export interface ApiEnv {
  Variables: ApiVariables;
}

/** What the authorizer decided about a request, for the audit trail. */
export interface AuthorizationOutcome {
  action: string;
  resource: string;
  decision: AuditDecision;
  statements: readonly string[];
  /** The request's other checks, when all were allowed. */
  alsoAuthorized?: readonly { action: string; resource: string }[];
}
