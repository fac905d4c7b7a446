import { DomainError } from '../../core/errors.ts';
import {
  canonicalBase64,
  ipInRange,
  parseBoolean,
  parseDate,
  parseIpAddress,
  parseIpRange,
  parseNumber,
  type IpAddress,
  type IpRange,
} from './condition-values.ts';
import type { ConditionClause, PolicyVersion } from './policy-document.ts';
import { hasVariables, isResolvable, parseTemplate, resolveTemplate, staticText, type TemplatePart } from './policy-variables.ts';
import type { ConditionContext } from './request-context.ts';
import { compilePatternList, type Matcher } from './wildcard.ts';

/**
 * The condition operators of the IAM User Guide ("IAM JSON policy elements:
 * Condition operators"), each compiled once per clause into a test of one
 * context value against the clause's values, and the rules that combine them:
 *
 * - Several values for one key: OR. For a negated operator (StringNotEquals,
 *   NotIpAddress, ArnNotLike, ...) the clause holds when the context value
 *   matches none of them: a negated operator is exactly the negation of its
 *   positive twin, absent keys included (StringNotEquals on an absent key is
 *   true, StringEquals false).
 * - `...IfExists` (any operator but Null): an absent key makes the clause true.
 * - Unqualified, on a multivalued context key: true when any context value
 *   matches (for a negated operator: when none does).
 * - `ForAnyValue:` true when at least one context value passes the operator,
 *   false when the key is absent or empty; `ForAllValues:` true when every
 *   context value passes, and true when the key is absent or empty.
 * - Null: `true` asks for the key to be absent, `false` for it to be present.
 * - Values with policy variables are resolved per request; a value whose
 *   variable has no value matches nothing, and a clause none of whose values
 *   can be resolved is false ("the element evaluates as false").
 *
 * An empty list is treated as an absent key everywhere.
 */

export interface CompiledCondition {
  /** As written, for findings and traces. */
  readonly operator: string;
  readonly key: string;
  evaluate(context: ConditionContext): boolean;
}

type Qualifier = 'none' | 'any' | 'all';
/** Whether one context value matches any of the clause's values under the positive form of the operator. */
type ValueTest = (contextValue: string, context: ConditionContext) => boolean;

interface OperatorSpec {
  readonly negated: boolean;
  /** Builds the value test; throws (through `invalid`) on a value the operator cannot read. */
  readonly build: (values: readonly (readonly TemplatePart[])[], invalid: (value: string, expected: string) => never) => ValueTest;
}

type Compare = (contextValue: number, policyValue: number) => boolean;
const EQ: Compare = (a, b) => a === b;
const LT: Compare = (a, b) => a < b;
const LE: Compare = (a, b) => a <= b;
const GT: Compare = (a, b) => a > b;
const GE: Compare = (a, b) => a >= b;

const stringEquals = (values: readonly (readonly TemplatePart[])[]): ValueTest => {
  const { fixed, dynamic } = splitStatic(values);
  const set = new Set(fixed);
  if (dynamic.length === 0) return (value) => set.has(value);
  return (value, context) => set.has(value) || dynamic.some((parts) => resolveTemplate(parts, context) === value);
};

const stringEqualsIgnoreCase = (values: readonly (readonly TemplatePart[])[]): ValueTest => {
  const { fixed, dynamic } = splitStatic(values);
  const set = new Set(fixed.map((text) => text.toLowerCase()));
  return (value, context) => {
    const lower = value.toLowerCase();
    return set.has(lower) || dynamic.some((parts) => resolveTemplate(parts, context)?.toLowerCase() === lower);
  };
};

const patterns =
  (mode: 'plain' | 'arn') =>
  (values: readonly (readonly TemplatePart[])[]): ValueTest => {
    const matcher: Matcher = compilePatternList(values, mode);
    return (value, context) => matcher(value, context);
  };

/** Numbers and dates: parsed once for fixed values, per request for values with variables. */
const ordered =
  (parse: (text: string) => number | undefined, parseContext: (text: string) => number | undefined, compare: Compare, expected: string) =>
  (values: readonly (readonly TemplatePart[])[], invalid: (value: string, expected: string) => never): ValueTest => {
    const { fixed, dynamic } = splitStatic(values);
    const numbers = fixed.map((text) => parse(text) ?? invalid(text, expected));
    return (value, context) => {
      const actual = parseContext(value);
      if (actual === undefined) return false;
      for (const policyValue of numbers) if (compare(actual, policyValue)) return true;
      for (const parts of dynamic) {
        const text = resolveTemplate(parts, context);
        const policyValue = text === undefined ? undefined : parse(text);
        if (policyValue !== undefined && compare(actual, policyValue)) return true;
      }
      return false;
    };
  };

const bool = (values: readonly (readonly TemplatePart[])[], invalid: (value: string, expected: string) => never): ValueTest => {
  const { fixed, dynamic } = splitStatic(values);
  const wanted = new Set(fixed.map((text) => parseBoolean(text) ?? invalid(text, 'true or false')));
  return (value, context) => {
    const actual = parseBoolean(value);
    if (actual === undefined) return false;
    return wanted.has(actual) || dynamic.some((parts) => parseBoolean(resolveTemplate(parts, context) ?? '') === actual);
  };
};

const binary = (values: readonly (readonly TemplatePart[])[], invalid: (value: string, expected: string) => never): ValueTest => {
  const { fixed, dynamic } = splitStatic(values);
  const wanted = new Set(fixed.map((text) => canonicalBase64(text) ?? invalid(text, 'base64 text')));
  return (value, context) => {
    const actual = canonicalBase64(value);
    if (actual === undefined) return false;
    return wanted.has(actual) || dynamic.some((parts) => canonicalBase64(resolveTemplate(parts, context) ?? '=') === actual);
  };
};

const ipAddress = (values: readonly (readonly TemplatePart[])[], invalid: (value: string, expected: string) => never): ValueTest => {
  const { fixed, dynamic } = splitStatic(values);
  const ranges = fixed.map((text) => parseIpRange(text) ?? invalid(text, 'an IPv4 or IPv6 address or CIDR range'));
  return (value, context) => {
    const address = parseContextIp(value);
    if (address === undefined) return false;
    for (const range of ranges) if (ipInRange(address, range)) return true;
    for (const parts of dynamic) {
      const text = resolveTemplate(parts, context);
      const range: IpRange | undefined = text === undefined ? undefined : parseIpRange(text);
      if (range !== undefined && ipInRange(address, range)) return true;
    }
    return false;
  };
};

/**
 * The same context value (aws:SourceIp, aws:CurrentTime) is read by every
 * clause on its key, and by the next requests until it changes: the last one
 * parsed is kept.
 */
function rememberLast<T>(parse: (text: string) => T): (text: string) => T {
  let lastText: string | undefined;
  let last: T;
  return (text) => {
    if (text !== lastText) {
      last = parse(text);
      lastText = text;
    }
    return last;
  };
}

const parseContextIp: (text: string) => IpAddress | undefined = rememberLast(parseIpAddress);
const parseContextDate = rememberLast(parseDate);

function numericOperator(negated: boolean, compare: Compare): OperatorSpec {
  return { negated, build: ordered(parseNumber, parseNumber, compare, 'a number') };
}

function dateOperator(negated: boolean, compare: Compare): OperatorSpec {
  return { negated, build: ordered(parseDate, parseContextDate, compare, 'an ISO 8601 date or epoch seconds') };
}

const OPERATORS: Readonly<Record<string, OperatorSpec>> = {
  StringEquals: { negated: false, build: stringEquals },
  StringNotEquals: { negated: true, build: stringEquals },
  StringEqualsIgnoreCase: { negated: false, build: stringEqualsIgnoreCase },
  StringNotEqualsIgnoreCase: { negated: true, build: stringEqualsIgnoreCase },
  StringLike: { negated: false, build: patterns('plain') },
  StringNotLike: { negated: true, build: patterns('plain') },
  NumericEquals: numericOperator(false, EQ),
  NumericNotEquals: numericOperator(true, EQ),
  NumericLessThan: numericOperator(false, LT),
  NumericLessThanEquals: numericOperator(false, LE),
  NumericGreaterThan: numericOperator(false, GT),
  NumericGreaterThanEquals: numericOperator(false, GE),
  DateEquals: dateOperator(false, EQ),
  DateNotEquals: dateOperator(true, EQ),
  DateLessThan: dateOperator(false, LT),
  DateLessThanEquals: dateOperator(false, LE),
  DateGreaterThan: dateOperator(false, GT),
  DateGreaterThanEquals: dateOperator(false, GE),
  Bool: { negated: false, build: bool },
  BinaryEquals: { negated: false, build: binary },
  IpAddress: { negated: false, build: ipAddress },
  NotIpAddress: { negated: true, build: ipAddress },
  // AWS documents ArnEquals and ArnLike alike: segment-wise, wildcards allowed in both.
  ArnEquals: { negated: false, build: patterns('arn') },
  ArnLike: { negated: false, build: patterns('arn') },
  ArnNotEquals: { negated: true, build: patterns('arn') },
  ArnNotLike: { negated: true, build: patterns('arn') },
};

/** Every operator name a policy may use, without qualifier or IfExists. */
export const CONDITION_OPERATORS: readonly string[] = [...Object.keys(OPERATORS), 'Null'];

const OPERATOR_SYNTAX = /^(ForAnyValue:|ForAllValues:)?([A-Za-z]+?)(IfExists)?$/;

/**
 * Compiles one clause. Throws DomainError('MalformedPolicyDocument') for an
 * unknown operator, a qualifier or IfExists on Null, and fixed values the
 * operator cannot read (a number that is not one, a date, an address).
 */
export function compileCondition(clause: ConditionClause, version: PolicyVersion, label: string): CompiledCondition {
  const malformed = (message: string): never => {
    throw new DomainError('MalformedPolicyDocument', `${label} has Condition ${clause.operator}: ${message}`, {
      operator: clause.operator,
      key: clause.key,
    });
  };
  const syntax = OPERATOR_SYNTAX.exec(clause.operator);
  const name = syntax?.[2];
  const qualifier: Qualifier = syntax?.[1] === 'ForAnyValue:' ? 'any' : syntax?.[1] === 'ForAllValues:' ? 'all' : 'none';
  const ifExists = syntax?.[3] !== undefined;
  const key = clause.key.toLowerCase();
  const base = { operator: clause.operator, key: clause.key };

  if (name === 'Null') {
    if (ifExists || qualifier !== 'none') malformed('Null tests whether a key is present, and takes neither IfExists nor ForAnyValue/ForAllValues');
    const wanted = clause.values.map((text) => parseBoolean(text) ?? malformed(`Null takes true or false, not ${JSON.stringify(text)}`));
    const wantsAbsent = wanted.includes(true);
    const wantsPresent = wanted.includes(false);
    return {
      ...base,
      evaluate: (context) => (isAbsent(context.lookup(key)) ? wantsAbsent : wantsPresent),
    };
  }

  const spec = name === undefined ? undefined : OPERATORS[name];
  if (spec === undefined) {
    malformed(`unknown operator; use one of ${CONDITION_OPERATORS.join(', ')}, optionally with IfExists and ForAnyValue:/ForAllValues:`);
  }
  const { negated, build } = spec!;
  const templates = clause.values.map((text) => parseTemplate(text, version));
  const test = build(templates, (value, expected) => malformed(`the value ${JSON.stringify(value)} of ${clause.key} is not ${expected}`));
  const everyValueHasVariables = templates.length > 0 && templates.every(hasVariables);

  return {
    ...base,
    evaluate(context) {
      if (everyValueHasVariables && !templates.some((parts) => isResolvable(parts, context))) return false;
      const value = context.lookup(key);
      if (isAbsent(value)) {
        if (ifExists) return true;
        return qualifier === 'all' ? true : qualifier === 'any' ? false : negated;
      }
      if (typeof value === 'string') return test(value, context) !== negated;
      switch (qualifier) {
        case 'any':
          for (const item of value) if (test(item, context) !== negated) return true;
          return false;
        case 'all':
          for (const item of value) if (test(item, context) === negated) return false;
          return true;
        default:
          for (const item of value) if (test(item, context)) return !negated;
          return negated;
      }
    },
  };
}

function isAbsent(value: string | readonly string[] | undefined): value is undefined | readonly [] {
  return value === undefined || (typeof value !== 'string' && value.length === 0);
}

function splitStatic(values: readonly (readonly TemplatePart[])[]): { fixed: string[]; dynamic: (readonly TemplatePart[])[] } {
  const fixed: string[] = [];
  const dynamic: (readonly TemplatePart[])[] = [];
  for (const parts of values) {
    const text = staticText(parts);
    if (text === undefined) dynamic.push(parts);
    else fixed.push(text);
  }
  return { fixed, dynamic };
}
