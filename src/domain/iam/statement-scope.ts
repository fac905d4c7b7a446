import type { Statement } from './policy-document.ts';
import { actionMatches, hasWildcard, matchesWildcard, wildcardCovers } from './wildcards.ts';

/** What a statement applies to: the actions it names, and whether one statement's reach covers another's. */

/** Whether the statement's Action (or the complement of its NotAction) names the action. */
export function grantsAction(statement: Statement, action: string): boolean {
  if (statement.action) return statement.action.some((pattern) => actionMatches(pattern, action));
  return !(statement.notAction ?? []).some((pattern) => actionMatches(pattern, action));
}

export function grantedCatalogActions(statement: Statement, knownActions: readonly string[]): string[] {
  return knownActions.filter((action) => grantsAction(statement, action));
}

/** Whether `general` applies to every (principal, action, resource) that `specific` does, conditions aside. */
export function covers(general: Statement, specific: Statement): boolean {
  return principalsCover(general, specific) && actionsCover(general, specific) && resourcesCover(general, specific);
}

function principalsCover(general: Statement, specific: Statement): boolean {
  if (general.notPrincipal || specific.notPrincipal) return canonical(general.notPrincipal) === canonical(specific.notPrincipal) && canonical(general.principal) === canonical(specific.principal);
  if (!general.principal || !specific.principal) return !general.principal && !specific.principal;
  return general.principal === '*' || canonical(general.principal) === canonical(specific.principal);
}

function actionsCover(general: Statement, specific: Statement): boolean {
  const names = { ignoreCase: true };
  if (general.action?.includes('*')) return true;
  if (general.action && specific.action) return specific.action.every((pattern) => general.action!.some((other) => wildcardCovers(other, pattern, names)));
  if (general.notAction && specific.action) {
    // Only literal names can be shown to miss every NotAction pattern.
    return specific.action.every((name) => !hasWildcard(name) && !general.notAction!.some((excluded) => matchesWildcard(excluded, name, names)));
  }
  if (general.notAction && specific.notAction) return general.notAction.every((excluded) => specific.notAction!.some((other) => wildcardCovers(other, excluded, names)));
  return false;
}

function resourcesCover(general: Statement, specific: Statement): boolean {
  const arns = { ignoreCase: false };
  const hasResources = (statement: Statement) => statement.resource !== undefined || statement.notResource !== undefined;
  if (!hasResources(general) || !hasResources(specific)) return !hasResources(general) && !hasResources(specific);
  if (general.resource?.includes('*')) return true;
  if (general.resource && specific.resource) return specific.resource.every((arn) => general.resource!.some((other) => wildcardCovers(other, arn, arns)));
  if (general.notResource && specific.resource) {
    return specific.resource.every((arn) => !hasWildcard(arn) && !general.notResource!.some((excluded) => matchesWildcard(excluded, arn, arns)));
  }
  if (general.notResource && specific.notResource) return general.notResource.every((excluded) => specific.notResource!.some((other) => wildcardCovers(other, excluded, arns)));
  return false;
}

export function sameStatement(a: Statement, b: Statement): boolean {
  const { sid: _a, ...restA } = a;
  const { sid: _b, ...restB } = b;
  return canonical(restA) === canonical(restB);
}

/** JSON with object keys sorted, so equal values compare equal however they were written. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : inner,
  ) ?? 'undefined';
}
