import type { AuthorizationOutcome } from './middleware/authorize/index.ts';

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
