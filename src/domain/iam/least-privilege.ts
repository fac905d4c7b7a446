import { KNOWN_ACTIONS } from './action-catalog.ts';
import type { PolicyDocument, Statement } from './policy-document.ts';
import { grantedCatalogActions } from './statement-scope.ts';
import { catalogSpelling, expandActionPattern, hasWildcard } from './wildcards.ts';

/**
 * Least privilege from what was actually used: the policy that allows exactly
 * the calls a principal made, and the permissions it holds but never used.
 * Usage comes from the authorizer's decisions; time is only carried through.
 */

/** One authorised (or refused) call: what was asked, on what, and what the evaluator decided. */
export interface UsageRecord {
  /** `sagemaker:InvokeEndpoint` */
  action: string;
  /** The resource's ARN, or `*` for actions that name no resource (List*, sts:GetCallerIdentity). */
  resource: string;
  decision: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  timeMs: number;
}

export interface SuggestedStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
}

/** Policy JSON as IAM takes it: `JSON.stringify` it for CreatePolicy or PutRolePolicy. */
export interface SuggestedPolicy {
  Version: '2012-10-17';
  Statement: SuggestedStatement[];
}

/** An action that was refused: the hint a CLI shows as "denied N times". */
export interface DeniedAction {
  action: string;
  resources: string[];
  count: number;
  explicitDenies: number;
  implicitDenies: number;
  lastDeniedMs: number;
}

export interface PolicySuggestion {
  /** Undefined when no call was allowed: IAM accepts no policy without statements. */
  policy: SuggestedPolicy | undefined;
  /** How many distinct actions were allowed, and so appear in the policy. */
  usedActions: number;
  /** Refused actions, sorted by name; they do not widen the policy. */
  deniedActions: DeniedAction[];
}

/**
 * The policy that allows exactly the allowed calls: each action on exactly the
 * resources it was used on (an action used on `*` gets `*`), with actions that
 * share the same resources in one statement. Output is sorted, so the same
 * records always give the same policy.
 */
/**
 * A resource ARN as a policy names exactly it: `*`, `?` and `$` in a name (an
 * object key may hold them) are written as the policy variables that stand
 * for the characters themselves, or the suggestion would grant a wildcard.
 */
function literalResource(arn: string): string {
  return arn.replace(/[$*?]/g, (char) => '${' + char + '}');
}

export function suggestPolicy(records: Iterable<UsageRecord>, { knownActions = KNOWN_ACTIONS }: { knownActions?: readonly string[] } = {}): PolicySuggestion {
  const allowed = new Map<string, Set<string>>();
  const denied = new Map<string, DeniedAction & { resourceSet: Set<string> }>();
  for (const record of records) {
    const action = catalogSpelling(record.action, knownActions) ?? record.action;
    if (record.decision === 'Allow') {
      const resources = allowed.get(action) ?? new Set<string>();
      resources.add(record.resource);
      allowed.set(action, resources);
      continue;
    }
    const entry = denied.get(action) ?? { action, resources: [], resourceSet: new Set<string>(), count: 0, explicitDenies: 0, implicitDenies: 0, lastDeniedMs: record.timeMs };
    entry.resourceSet.add(record.resource);
    entry.count += 1;
    if (record.decision === 'ExplicitDeny') entry.explicitDenies += 1;
    else entry.implicitDenies += 1;
    entry.lastDeniedMs = Math.max(entry.lastDeniedMs, record.timeMs);
    denied.set(action, entry);
  }

  // Group actions by the exact set of resources they were used on.
  const groups = new Map<string, { resources: string[]; actions: string[] }>();
  for (const [action, resourceSet] of allowed) {
    const resources = resourceSet.has('*') ? ['*'] : [...resourceSet].map(literalResource).sort(compare);
    const key = JSON.stringify(resources);
    const group = groups.get(key) ?? { resources, actions: [] };
    group.actions.push(action);
    groups.set(key, group);
  }
  const ordered = [...groups.values()]
    .map((group) => ({ ...group, actions: group.actions.sort(compare) }))
    .sort((a, b) => compare(a.actions[0], b.actions[0]) || compare(a.resources[0], b.resources[0]));
  const sids = new Set<string>();
  const statements = ordered.map(({ actions, resources }): SuggestedStatement => ({ Sid: uniqueSid(sidFor(actions), sids), Effect: 'Allow', Action: actions, Resource: resources }));

  return {
    policy: statements.length > 0 ? { Version: '2012-10-17', Statement: statements } : undefined,
    usedActions: allowed.size,
    deniedActions: [...denied.values()]
      .sort((a, b) => compare(a.action, b.action))
      .map(({ resourceSet, ...entry }) => ({ ...entry, resources: [...resourceSet].sort(compare) })),
  };
}

/** A permission an Allow statement grants that no allowed call used. */
export interface UnusedPermission {
  action: string;
  /** The statement's Resource; `['*']` with `notResourcePatterns` for a NotResource statement (every resource but those). */
  resourcePatterns: string[];
  notResourcePatterns?: string[];
  statement: { policyLabel?: string; index: number; sid?: string };
}

/** A policy with the name a report should show for it, e.g. its ARN. */
export interface LabelledPolicy {
  label?: string;
  document: PolicyDocument;
}

/**
 * The actions the principal's identity policies allow that no allowed call
 * used, per granting statement: wildcards are expanded against the catalog
 * (`sagemaker:*` is every sagemaker action), NotAction grants every catalog
 * action it does not name. An action counts as used when any record with that
 * action was allowed, whatever its resource: a statement granting it on more
 * resources than were used is not reported.
 */
export function unusedPermissions(
  policies: readonly (PolicyDocument | LabelledPolicy)[],
  records: Iterable<UsageRecord>,
  knownActions: readonly string[] = KNOWN_ACTIONS,
): UnusedPermission[] {
  const used = new Set<string>();
  for (const record of records) if (record.decision === 'Allow') used.add(record.action.toLowerCase());
  const unused: UnusedPermission[] = [];
  for (const policy of policies) {
    const { label, document } = 'document' in policy ? policy : { label: undefined, document: policy };
    document.statements.forEach((statement, index) => {
      if (statement.effect !== 'Allow') return;
      const where = {
        ...(label !== undefined ? { policyLabel: label } : {}),
        index,
        ...(statement.sid !== undefined ? { sid: statement.sid } : {}),
      };
      const resources = statement.notResource ? { resourcePatterns: ['*'], notResourcePatterns: [...statement.notResource] } : { resourcePatterns: [...(statement.resource ?? ['*'])] };
      for (const action of grantedActions(statement, knownActions)) {
        if (!used.has(action.toLowerCase())) unused.push({ action, ...resources, statement: where });
      }
    });
  }
  return unused;
}

/** The concrete actions a statement grants: catalog actions for wildcards and NotAction, literal names as written (spelled as the catalog does). */
function grantedActions(statement: Statement, knownActions: readonly string[]): string[] {
  const granted = new Map<string, string>();
  const add = (action: string) => granted.set(action.toLowerCase(), granted.get(action.toLowerCase()) ?? action);
  if (statement.action) {
    for (const pattern of statement.action) {
      if (hasWildcard(pattern)) expandActionPattern(pattern, knownActions).forEach(add);
      else add(catalogSpelling(pattern, knownActions) ?? pattern);
    }
  } else {
    grantedCatalogActions(statement, knownActions).forEach(add);
  }
  return [...granted.values()].sort(compare);
}

/** `sagemaker` → `Sagemaker`, `application-autoscaling` → `ApplicationAutoscaling`: Sids take letters and digits only. */
function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

/** `SagemakerInvokeEndpoint`; `SagemakerDescribeEndpointAndInvokeEndpoint`; `SagemakerCreateModelAnd3More`; `SagemakerAndStsActions`. */
function sidFor(actions: readonly string[]): string {
  const parsed = actions.map((action) => {
    const colon = action.indexOf(':');
    return colon < 0 ? { service: '', name: pascal(action) } : { service: action.slice(0, colon), name: pascal(action.slice(colon + 1)) };
  });
  const services = [...new Set(parsed.map((action) => action.service))];
  if (services.length > 1) return `${services.map(pascal).join('And')}Actions`;
  const service = pascal(services[0]);
  if (parsed.length === 1) return `${service}${parsed[0].name}`;
  if (parsed.length === 2) return `${service}${parsed[0].name}And${parsed[1].name}`;
  return `${service}${parsed[0].name}And${parsed.length - 1}More`;
}

function uniqueSid(base: string, taken: Set<string>): string {
  const root = base === '' ? 'Statement' : base;
  let sid = root;
  for (let n = 2; taken.has(sid); n++) sid = `${root}${n}`;
  taken.add(sid);
  return sid;
}

/** Code-unit order: the same everywhere, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
