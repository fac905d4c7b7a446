import { describeError } from '../../core/errors.ts';
import { PolicyCache, type CompiledPolicy } from './compile-policy.ts';
import { parseDate } from './condition-values.ts';
import { evaluatePolicies } from './evaluate.ts';
import { principalFromArn } from './principal-match.ts';
import { requestContextKeys } from './request-context.ts';

/**
 * The offline batch format of policy simulations, used for conformance runs:
 *
 * in, one JSON object a line:
 *   {"id": ..., "identityPolicies": [policy | "policy JSON", ...], "resourcePolicy": policy | "policy JSON" | null,
 *    "request": {"principal": "ARN", "action": "svc:Action", "resource": "ARN or *", "context": {"key": value, ...}}}
 *   context values are strings, numbers, booleans, or lists of them.
 * out, one JSON object a line: {"id": ..., "decision": "Allow" | "ExplicitDeny" | "ImplicitDeny"},
 *   or {"id": ..., "error": "..."} for a line that is not JSON, not of this shape, or has an invalid
 *   policy (id null when the line gives none). Blank lines are skipped; lines after a bad one go on.
 *
 * Evaluation is within one account, as evaluatePolicies does it. The principal's account comes
 * from its ARN; aws:PrincipalArn, aws:PrincipalAccount, aws:username (for users), aws:CurrentTime
 * and aws:EpochTime (from `nowMs`) are derived unless the context gives them; the context may
 * override or add any key.
 */

type CaseId = string | number | null;

class CaseError extends Error {}

const sharedCache = new PolicyCache(1000);

export function simulateCase(line: string, nowMs: number, cache: PolicyCache = sharedCache): string {
  let id: CaseId = null;
  try {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new CaseError(`The line is not valid JSON: ${(error as Error).message}`);
    }
    if (!isObject(value)) throw new CaseError('The line must be a JSON object with id, identityPolicies, resourcePolicy and request');
    if (typeof value.id === 'string' || typeof value.id === 'number') id = value.id;
    else throw new CaseError('The case has no id (a string or a number)');
    return JSON.stringify({ id, decision: decide(value, nowMs, cache) });
  } catch (error) {
    return JSON.stringify({ id, error: describeError(error) });
  }
}

/** One output line per non-blank input line, in order. */
export function* simulateCases(lines: Iterable<string>, nowMs: number, cache: PolicyCache = new PolicyCache(1000)): Generator<string> {
  for (const line of lines) {
    if (line.trim() === '') continue;
    yield simulateCase(line, nowMs, cache);
  }
}

function decide(value: Record<string, unknown>, nowMs: number, cache: PolicyCache): string {
  const identitySources = value.identityPolicies ?? [];
  if (!Array.isArray(identitySources)) throw new CaseError('identityPolicies must be a list of policies');
  const identityPolicies = identitySources.map((source, index) => compileSource(source, 'identity', `identityPolicies[${index}]`, cache));
  const resourceSource = value.resourcePolicy ?? null;
  const resourcePolicy = resourceSource === null ? undefined : compileSource(resourceSource, 'resource', 'resourcePolicy', cache);

  const request = value.request;
  if (!isObject(request)) throw new CaseError('request must be an object with principal, action, resource and context');
  for (const field of ['principal', 'action', 'resource'] as const) {
    if (typeof request[field] !== 'string' || request[field] === '') throw new CaseError(`request.${field} must be a non-empty string`);
  }
  const principalArn = request.principal as string;
  const principal = principalFromArn(principalArn);
  if (principal === undefined) {
    throw new CaseError(`request.principal ${JSON.stringify(principalArn)} is not a principal ARN (user, role, assumed-role session, federated user, account root) or a service principal`);
  }

  const context = requestContextKeys({ principal, nowMs });
  const given = request.context ?? {};
  if (!isObject(given)) throw new CaseError('request.context must be an object of condition keys');
  for (const [key, raw] of Object.entries(given)) context.set(key, contextValue(key, raw));
  const currentTime = context.get('aws:CurrentTime');
  const epochGiven = Object.keys(given).some((key) => key.toLowerCase() === 'aws:epochtime');
  if (!epochGiven && typeof currentTime === 'string') {
    const ms = parseDate(currentTime);
    if (ms !== undefined) context.set('aws:EpochTime', String(Math.floor(ms / 1000)));
  }

  const result = evaluatePolicies(
    { identityPolicies, ...(resourcePolicy !== undefined ? { resourcePolicy } : {}) },
    { principal, action: request.action as string, resource: request.resource as string, context },
  );
  return result.decision;
}

function compileSource(source: unknown, kind: 'identity' | 'resource', where: string, cache: PolicyCache): CompiledPolicy {
  if (typeof source !== 'string' && !isObject(source)) throw new CaseError(`${where} must be a policy object or its JSON text`);
  try {
    return cache.compile(source, { kind, policyId: where });
  } catch (error) {
    throw new CaseError(`${where}: ${describeError(error)}`);
  }
}

function contextValue(key: string, raw: unknown): string | string[] {
  const scalar = (item: unknown): string => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number' || typeof item === 'boolean') return String(item);
    throw new CaseError(`request.context ${key} has a value ${JSON.stringify(item)}; use a string, number, boolean or a list of them`);
  };
  return Array.isArray(raw) ? raw.map(scalar) : scalar(raw);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
