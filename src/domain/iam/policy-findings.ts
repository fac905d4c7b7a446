import { statementLabel, type Statement } from './policy-document.ts';

/**
 * The findings policy validation reports, in the manner of IAM Access
 * Analyzer's ValidatePolicy: four severities, a stable code per check, and a
 * message that names the statement and says how to fix it.
 */

export type FindingSeverity = 'ERROR' | 'SECURITY_WARNING' | 'WARNING' | 'SUGGESTION';

export type FindingCode =
  | 'SYNTAX'
  | 'UNKNOWN_SERVICE'
  | 'UNKNOWN_ACTION'
  | 'TRUST_POLICY_NON_STS_ACTION'
  | 'UNKNOWN_CONDITION_OPERATOR'
  | 'NULL_WITH_IF_EXISTS'
  | 'INVALID_CONDITION_KEY'
  | 'CONDITION_TYPE_MISMATCH'
  | 'ALLOW_ALL_ACTIONS'
  | 'PASS_ROLE_WITH_STAR_RESOURCE'
  | 'PASS_ROLE_WITH_NOT_RESOURCE'
  | 'ALLOW_WITH_NOT_ACTION'
  | 'ALLOW_ANY_PRINCIPAL'
  | 'ALLOW_WITH_NOT_PRINCIPAL'
  | 'ALLOW_ALL_SERVICE_ACTIONS'
  | 'WRITE_ACTIONS_ON_STAR_RESOURCE'
  | 'ALLOW_WITH_NOT_RESOURCE'
  | 'SHADOWED_STATEMENT'
  | 'VARIABLE_UNSUPPORTED_IN_VERSION'
  | 'UNSUPPORTED_SID'
  | 'REDUNDANT_STATEMENT'
  | 'REDUNDANT_ACTION'
  | 'REDUNDANT_RESOURCE'
  | 'WILDCARD_IN_SERVICE_NAME'
  | 'MISSING_VERSION'
  | 'EMPTY_SID';

export interface Finding {
  severity: FindingSeverity;
  code: FindingCode;
  message: string;
  /** The statement the finding is about, counted from 0; absent for findings about the whole document. */
  statement?: { index: number; sid?: string };
}

export const SEVERITY_RANK: Record<FindingSeverity, number> = { ERROR: 0, SECURITY_WARNING: 1, WARNING: 2, SUGGESTION: 3 };

/** True when the findings include an ERROR: such a policy is refused, as AWS refuses a malformed one. */
export function blocksAttachment(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'ERROR');
}

/** Collects findings about one statement, each labelled "Statement 2 (Sid ReadOnly)". */
export class StatementFindings {
  readonly label: string;
  constructor(
    readonly statement: Statement,
    readonly index: number,
    private readonly findings: Finding[],
  ) {
    this.label = statementLabel(index, statement.sid);
  }

  add(severity: FindingSeverity, code: FindingCode, message: string): void {
    const statement = this.statement.sid === undefined ? { index: this.index } : { index: this.index, sid: this.statement.sid };
    this.findings.push({ severity, code, message, statement });
  }
}

/** The candidate nearest to `word` (ignoring case) by edit distance, in the candidate's spelling, if it is near enough to be a likely typo. */
export function closestName(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 6)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}
