import type { ConditionClause } from './policy-document.ts';
import { closestName, type StatementFindings } from './policy-findings.ts';

/**
 * Checks of a statement's Condition block: operators IAM knows (with their
 * ForAnyValue:/ForAllValues: qualifiers and IfExists), keys of the form
 * service:Name, and values of the operator's type.
 */

type OperatorType = 'String' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'Ip' | 'Arn' | 'Null';

/** The condition operators of the IAM element reference, by the type of value they compare. */
const CONDITION_OPERATORS = new Map<string, OperatorType>([
  ...['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike'].map((name) => [name, 'String'] as const),
  ...['NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals'].map(
    (name) => [name, 'Numeric'] as const,
  ),
  ...['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals'].map((name) => [name, 'Date'] as const),
  ['Bool', 'Bool'],
  ['BinaryEquals', 'Binary'],
  ['IpAddress', 'Ip'],
  ['NotIpAddress', 'Ip'],
  ...['ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike'].map((name) => [name, 'Arn'] as const),
  ['Null', 'Null'],
]);

const VALUE_CHECKS: Partial<Record<OperatorType, { test: (value: string) => boolean; expected: string }>> = {
  Numeric: { test: (value) => /^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(value), expected: 'a number' },
  Date: { test: isDate, expected: 'a date such as 2026-01-31T00:00:00Z or seconds since the epoch' },
  Bool: { test: (value) => /^(true|false)$/i.test(value), expected: 'true or false' },
  Null: { test: (value) => /^(true|false)$/i.test(value), expected: 'true (the key is absent) or false (it is present)' },
  Ip: { test: isIpRange, expected: 'an IP address or CIDR range such as 203.0.113.0/24' },
  Binary: { test: (value) => value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value), expected: 'base64' },
};

export function checkConditions(at: StatementFindings): void {
  const { statement, label } = at;
  for (const clause of statement.conditions) {
    const type = operatorType(at, clause);
    if (!/^[A-Za-z0-9-]+:\S+$/.test(clause.key)) {
      at.add(
        'ERROR',
        'INVALID_CONDITION_KEY',
        `${label} has Condition key ${JSON.stringify(clause.key)} under ${clause.operator}, which is not of the form service:Name (e.g. aws:SourceIp, iam:PassedToService)`,
      );
    }
    const check = type && VALUE_CHECKS[type];
    if (!check) continue;
    for (const value of clause.values) {
      if (value.includes('${') || check.test(value)) continue;
      at.add(
        'ERROR',
        'CONDITION_TYPE_MISMATCH',
        `${label} compares ${clause.key} with ${clause.operator} against ${JSON.stringify(value)}, which is not ${check.expected}; fix the value or use an operator of its type`,
      );
    }
  }
}

/** The operator's value type, or undefined (with an ERROR) when it is not an operator AWS knows. */
function operatorType(at: StatementFindings, clause: ConditionClause): OperatorType | undefined {
  let base = clause.operator.replace(/^(ForAnyValue|ForAllValues):/, '');
  const ifExists = base.endsWith('IfExists');
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  const type = CONDITION_OPERATORS.get(base);
  if (type === undefined) {
    const spelled = closestName(base, CONDITION_OPERATORS.keys());
    at.add(
      'ERROR',
      'UNKNOWN_CONDITION_OPERATOR',
      `${at.label} has Condition operator ${clause.operator}, which is not an IAM condition operator` +
        (spelled ? `; did you mean ${clause.operator.replace(base, spelled)}?` : '; use one such as StringEquals, ArnLike, NumericLessThan, DateGreaterThan, Bool, IpAddress or Null'),
    );
    return undefined;
  }
  if (type === 'Null' && ifExists) {
    at.add('ERROR', 'NULL_WITH_IF_EXISTS', `${at.label} uses ${clause.operator}, which AWS refuses: Null already tests whether the key exists; use ${clause.operator.replace(/IfExists$/, '')}`);
  }
  return type;
}

function isDate(value: string): boolean {
  if (/^\d+$/.test(value)) return true;
  return /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) && !Number.isNaN(Date.parse(value));
}

function isIpRange(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (rest.length > 0) return false;
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (ipv4) return ipv4.slice(1).every((octet) => Number(octet) <= 255) && (prefix === undefined || (/^\d{1,2}$/.test(prefix) && Number(prefix) <= 32));
  return address.includes(':') && /^[0-9a-fA-F:.]+$/.test(address) && (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= 128));
}
