import { isDomainError } from '../../core/errors.ts';
import { KNOWN_ACTIONS } from './action-catalog.ts';
import { ACCOUNT_ID, DEFAULT_REGION, KENNEL_EXECUTION_ROLE_ARN } from './arn.ts';
import { parsePolicyDocument, statementLabel, type PolicyDocument, type PolicyKind, type PrincipalSpec } from './policy-document.ts';
import { closestName, SEVERITY_RANK, StatementFindings, type Finding, type FindingCode, type FindingSeverity } from './policy-findings.ts';
import { covers, grantedCatalogActions, grantsAction, sameStatement } from './statement-scope.ts';
import { checkConditions } from './validate-conditions.ts';
import { expandActionPattern, hasWildcard, wildcardCovers } from './wildcards.ts';

export { blocksAttachment, type Finding, type FindingCode, type FindingSeverity } from './policy-findings.ts';

/**
 * Policy checks in the manner of IAM Access Analyzer's ValidatePolicy: findings
 * of four severities, each with a stable code, a message that names the
 * statement and says how to fix it. Only ERROR findings stop a policy from
 * being attached (blocksAttachment); the others are advice.
 */

export interface ValidatePolicyOptions {
  kind?: PolicyKind;
  /** `service:Action` names that exist; an action pattern that matches none of them is an error. */
  knownActions?: readonly string[];
}

/**
 * Checks a policy's JSON (text, or an already-parsed value). Grammar problems
 * come back as one SYNTAX error, as the parser stops at the first; a policy
 * that parses gets every other check. Findings are ordered by statement, then
 * severity; document-wide findings come first.
 */
export function validatePolicy(source: string | object, options: ValidatePolicyOptions = {}): Finding[] {
  const kind = options.kind ?? 'identity';
  const knownActions = options.knownActions ?? KNOWN_ACTIONS;
  let document: PolicyDocument;
  try {
    document = parsePolicyDocument(source, kind);
  } catch (error) {
    if (isDomainError(error) && error.code === 'MalformedPolicyDocument') return [syntaxFinding(error.message)];
    throw error;
  }
  const context: Context = { kind, knownActions, services: servicesOf(knownActions), document };
  const findings: Finding[] = [];
  if (!document.versionGiven) {
    findings.push({
      severity: 'SUGGESTION',
      code: 'MISSING_VERSION',
      message:
        'The policy names no Version, so it is read as 2008-10-17, in which policy variables such as ${aws:username} are plain text; add "Version": "2012-10-17"',
    });
  }
  document.statements.forEach((statement, index) => {
    const at = new StatementFindings(statement, index, findings);
    checkSid(at, context);
    checkActions(at, context);
    checkResources(at);
    checkEffectShape(at, context);
    checkConditions(at);
    checkVariables(at, context);
    checkAgainstOtherStatements(at, context);
  });
  return findings
    .map((finding, order) => ({ finding, order }))
    .sort((a, b) => {
      const byStatement = (a.finding.statement?.index ?? -1) - (b.finding.statement?.index ?? -1);
      if (byStatement !== 0) return byStatement;
      const bySeverity = SEVERITY_RANK[a.finding.severity] - SEVERITY_RANK[b.finding.severity];
      return bySeverity !== 0 ? bySeverity : a.order - b.order;
    })
    .map(({ finding }) => finding);
}

interface Context {
  kind: PolicyKind;
  knownActions: readonly string[];
  /** Lower-cased service prefix → its spelling in the catalog. */
  services: Map<string, string>;
  document: PolicyDocument;
}

function syntaxFinding(message: string): Finding {
  // The parser names the statement in its message ("Statement 2 (Sid ReadOnly) has no Effect"); point at it too.
  const match = /^Statement (\d+)(?: \(Sid ([A-Za-z0-9 ]*)\))?/.exec(message);
  const finding: Finding = { severity: 'ERROR', code: 'SYNTAX', message };
  if (match) finding.statement = match[2] === undefined ? { index: Number(match[1]) - 1 } : { index: Number(match[1]) - 1, sid: match[2] };
  return finding;
}

function servicesOf(knownActions: readonly string[]): Map<string, string> {
  const services = new Map<string, string>();
  for (const action of knownActions) {
    const service = action.slice(0, action.indexOf(':'));
    services.set(service.toLowerCase(), service);
  }
  return services;
}

function checkSid(at: StatementFindings, context: Context): void {
  const { statement, label } = at;
  if (statement.sid === undefined) return;
  if (statement.sid === '') {
    at.add('SUGGESTION', 'EMPTY_SID', `${label} has an empty Sid; give it a name that says what it allows, or remove the Sid element`);
  } else if (statement.sid.includes(' ') && context.kind !== 'resource') {
    at.add(
      'WARNING',
      'UNSUPPORTED_SID',
      `${label} has a Sid with spaces, which AWS IAM refuses in identity and trust policies ("Statement IDs (SID) must be alpha-numeric"); remove the spaces so the policy also works on AWS`,
    );
  }
}

function checkActions(at: StatementFindings, context: Context): void {
  const { statement, label } = at;
  const element = statement.action ? 'Action' : 'NotAction';
  const patterns = statement.action ?? statement.notAction ?? [];
  const allows = statement.effect === 'Allow' && statement.action !== undefined;
  patterns.forEach((pattern, position) => {
    const expansion = expandActionPattern(pattern, context.knownActions);
    const everything = expansion.length === context.knownActions.length && context.knownActions.length > 0;
    const colon = pattern.indexOf(':');
    const service = colon < 0 ? '*' : pattern.slice(0, colon);
    const actionPart = colon < 0 ? '*' : pattern.slice(colon + 1);
    if (expansion.length === 0) {
      at.add(...unknownActionFinding(label, element, pattern, service, context));
      return;
    }
    if (context.kind === 'trust' && !hasWildcard(service) && service.toLowerCase() !== 'sts') {
      at.add(
        'ERROR',
        'TRUST_POLICY_NON_STS_ACTION',
        `${label} names ${pattern} in a role's trust policy, which may only name sts actions (sts:AssumeRole, sts:TagSession); grant ${pattern} in a permissions policy attached to the role instead`,
      );
    }
    if (hasWildcard(service) && !everything) {
      at.add(
        'SUGGESTION',
        'WILDCARD_IN_SERVICE_NAME',
        `${label} names ${pattern}, with a wildcard in the service prefix, so it also matches services added later; write one entry per service, e.g. ${expansion[0]}`,
      );
    }
    if (allows && everything) {
      at.add(
        'SECURITY_WARNING',
        'ALLOW_ALL_ACTIONS',
        `${label} allows every action (${pattern}), which makes its holder an administrator; list the actions the holder needs instead, or generate them from recorded use`,
      );
    } else if (allows && actionPart === '*' && !hasWildcard(service)) {
      at.add(
        'WARNING',
        'ALLOW_ALL_SERVICE_ACTIONS',
        `${label} allows every ${service} action (${pattern}), ${expansion.length} today and any added later, including ${sample(nonReads(expansion).length > 0 ? nonReads(expansion) : expansion)}; list the ${service} actions the holder needs instead`,
      );
    }
    const coveringIndex = patterns.findIndex(
      (other, otherPosition) =>
        otherPosition !== position &&
        wildcardCovers(other, pattern, { ignoreCase: true }) &&
        (otherPosition < position || !wildcardCovers(pattern, other, { ignoreCase: true })),
    );
    if (coveringIndex >= 0) {
      at.add('SUGGESTION', 'REDUNDANT_ACTION', `${label} lists ${pattern} in ${element}, which ${patterns[coveringIndex]} in the same list already covers; remove ${pattern}`);
    }
  });
}

/**
 * A prefix close to one of Kennel's is taken for a typo, an error; any other is
 * another AWS service, which a policy copied from AWS may well name: a warning,
 * since the statement keeps its meaning there and changes nothing here.
 */
function unknownActionFinding(label: string, element: string, pattern: string, service: string, context: Context): [FindingSeverity, FindingCode, string] {
  if (!hasWildcard(service) && !context.services.has(service.toLowerCase())) {
    const guess = closestName(service, context.services.values());
    if (guess) return ['ERROR', 'UNKNOWN_SERVICE', `${label} has ${element} ${pattern}, but Kennel runs no service with the prefix ${service}; did you mean ${guess}:${pattern.slice(service.length + 1)}?`];
    return [
      'WARNING',
      'UNKNOWN_SERVICE',
      `${label} has ${element} ${pattern}, but Kennel runs no service with the prefix ${service} (it serves ${[...context.services.values()].join(', ')}), so it has no effect here; remove it unless the policy is also used on AWS`,
    ];
  }
  const guess = hasWildcard(pattern) ? undefined : closestName(pattern, context.knownActions);
  return [
    'ERROR',
    'UNKNOWN_ACTION',
    `${label} has ${element} ${pattern}, which matches no action Kennel authorises, so it ${element === 'Action' ? 'grants or denies' : 'excludes'} nothing` +
      (guess ? `; did you mean ${guess}?` : "; check the spelling against the service's actions in AWS's Service Authorization Reference"),
  ];
}

function checkEffectShape(at: StatementFindings, context: Context): void {
  const { statement, label } = at;
  if (statement.effect !== 'Allow') return;
  if (statement.notAction) {
    at.add(
      'SECURITY_WARNING',
      'ALLOW_WITH_NOT_ACTION',
      `${label} allows every action except ${statement.notAction.join(', ')}, including actions Kennel adds later; list the allowed actions in Action instead of excluding some with NotAction`,
    );
  }
  if (statement.notPrincipal) {
    at.add(
      'SECURITY_WARNING',
      'ALLOW_WITH_NOT_PRINCIPAL',
      `${label} allows everyone except the principals in NotPrincipal, anonymous callers included; name the allowed principals in Principal instead`,
    );
  }
  if (statement.principal && isAnyone(statement.principal) && statement.conditions.length === 0) {
    const what = context.kind === 'trust' ? 'lets any principal of any account assume this role' : 'allows any principal of any account';
    at.add('SECURITY_WARNING', 'ALLOW_ANY_PRINCIPAL', `${label} ${what}; name the accounts, roles or services in Principal, or add a Condition that narrows it`);
  }
  if (statement.notResource) {
    at.add(
      'WARNING',
      'ALLOW_WITH_NOT_RESOURCE',
      `${label} allows its actions on every resource except ${statement.notResource.join(', ')}, including resources created later; name the resources it is for in Resource instead`,
    );
  }
  const passesRoles = grantsAction(statement, 'iam:PassRole');
  const onEverything = statement.resource?.includes('*') ?? false;
  if (passesRoles && onEverything) {
    at.add(
      'SECURITY_WARNING',
      'PASS_ROLE_WITH_STAR_RESOURCE',
      `${label} allows iam:PassRole on every role ("*"), so its holder can hand any role, an administrator's included, to a training job or function and act with its permissions; name the role ARNs in Resource, e.g. ${KENNEL_EXECUTION_ROLE_ARN}` +
        (statement.conditions.length > 0 ? ' (the Condition limits where a role may be passed, not which role)' : ''),
    );
  } else if (passesRoles && statement.notResource) {
    at.add(
      'SECURITY_WARNING',
      'PASS_ROLE_WITH_NOT_RESOURCE',
      `${label} allows iam:PassRole on every role not listed in NotResource, roles created later included; name the roles that may be passed in Resource instead`,
    );
  }
  const granted = grantedCatalogActions(statement, context.knownActions);
  // A statement that allows every action has its SECURITY_WARNING already; listing its writes adds nothing.
  if (onEverything && granted.length < context.knownActions.length) {
    const writes = nonReads(granted).filter((action) => !(passesRoles && action.toLowerCase() === 'iam:passrole'));
    if (writes.length > 0) {
      const conditional = statement.conditions.length > 0;
      at.add(
        conditional ? 'SUGGESTION' : 'WARNING',
        'WRITE_ACTIONS_ON_STAR_RESOURCE',
        `${label} allows actions that change or use resources (${sample(writes)}) on every resource ("*")` +
          (conditional ? ', limited only by its Condition' : '') +
          `; name the resources they are for in Resource${exampleArn(writes[0])}, so a leaked key cannot touch the others`,
      );
    }
  }
}

/** An ARN of the kind the action's service uses, to show what "name the resources" means. */
function exampleArn(action: string): string {
  const service = action.slice(0, action.indexOf(':')).toLowerCase();
  const examples: Record<string, string> = {
    sagemaker: `arn:aws:sagemaker:${DEFAULT_REGION}:${ACCOUNT_ID}:endpoint/NAME`,
    lambda: `arn:aws:lambda:${DEFAULT_REGION}:${ACCOUNT_ID}:function:NAME`,
    s3: 'arn:aws:s3:::BUCKET/*',
    logs: `arn:aws:logs:${DEFAULT_REGION}:${ACCOUNT_ID}:log-group:/aws/lambda/NAME:*`,
    iam: `arn:aws:iam::${ACCOUNT_ID}:role/NAME`,
  };
  return examples[service] ? `, e.g. ${examples[service]}` : '';
}

function checkResources(at: StatementFindings): void {
  const { statement, label } = at;
  const element = statement.resource ? 'Resource' : 'NotResource';
  const arns = statement.resource ?? statement.notResource ?? [];
  const exact = { ignoreCase: false };
  arns.forEach((arn, position) => {
    const coveringIndex = arns.findIndex(
      (other, otherPosition) => otherPosition !== position && wildcardCovers(other, arn, exact) && (otherPosition < position || !wildcardCovers(arn, other, exact)),
    );
    if (coveringIndex >= 0) {
      at.add('SUGGESTION', 'REDUNDANT_RESOURCE', `${label} lists ${arn} in ${element}, which ${arns[coveringIndex]} in the same list already covers; remove ${arn}`);
    }
  });
}

function isAnyone(principal: PrincipalSpec): boolean {
  return principal === '*' || (principal.AWS?.includes('*') ?? false);
}

/** Actions that are not reads: everything but Describe*, List*, Get* and the IAM simulators, as AWS's access levels roughly draw the line. */
function nonReads(actions: readonly string[]): string[] {
  return actions.filter((action) => !/:(Describe|List|Get|Simulate)/i.test(action));
}

function sample(actions: readonly string[]): string {
  const shown = actions.slice(0, 3).join(', ');
  return actions.length > 3 ? `${shown} and ${actions.length - 3} more` : shown;
}

function checkVariables(at: StatementFindings, context: Context): void {
  if (context.document.version !== '2008-10-17') return;
  const { statement, label } = at;
  const texts = [...(statement.resource ?? []), ...(statement.notResource ?? []), ...statement.conditions.flatMap((clause) => clause.values)];
  const withVariable = texts.find((text) => /\$\{[^}]+\}/.test(text));
  if (withVariable === undefined) return;
  at.add(
    'WARNING',
    'VARIABLE_UNSUPPORTED_IN_VERSION',
    `${label} uses a policy variable in ${JSON.stringify(withVariable)}, but the policy's Version is 2008-10-17${context.document.versionGiven ? '' : ' (the default when none is named)'}, in which it is matched as plain text; set "Version": "2012-10-17"`,
  );
}

/**
 * An Allow that an unconditional Deny covers can never allow anything; a
 * statement that another unconditional one of the same effect covers adds
 * nothing, and neither does a duplicate (conditions and all). Of two
 * equivalent statements the later is reported.
 */
function checkAgainstOtherStatements(at: StatementFindings, context: Context): void {
  const { statement, index, label } = at;
  const statements = context.document.statements;
  if (statement.effect === 'Allow') {
    const denyIndex = statements.findIndex((other) => other.effect === 'Deny' && other.conditions.length === 0 && covers(other, statement));
    if (denyIndex >= 0) {
      at.add(
        'WARNING',
        'SHADOWED_STATEMENT',
        `${label} can never allow anything: ${statementLabel(denyIndex, statements[denyIndex].sid)} denies all of it without conditions, and an explicit deny wins; remove ${label} or narrow the Deny`,
      );
      return;
    }
  }
  const coveringIndex = statements.findIndex((other, otherIndex) => {
    if (otherIndex === index || other.effect !== statement.effect) return false;
    if (sameStatement(other, statement)) return otherIndex < index;
    return other.conditions.length === 0 && covers(other, statement) && (otherIndex < index || statement.conditions.length > 0 || !covers(statement, other));
  });
  if (coveringIndex < 0) return;
  const other = statementLabel(coveringIndex, statements[coveringIndex].sid);
  const message = sameStatement(statement, statements[coveringIndex])
    ? `${label} duplicates ${other}; remove one of them`
    : `${label} ${statement.effect === 'Allow' ? 'allows' : 'denies'} nothing that ${other} does not already ${statement.effect === 'Allow' ? 'allow' : 'deny'} without conditions; remove ${label}, or narrow ${other} if ${label} is the one you meant`;
  at.add('SUGGESTION', 'REDUNDANT_STATEMENT', message);
}

