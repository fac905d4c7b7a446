import { DomainError } from '../../core/errors.ts';
import { compileCondition, type CompiledCondition } from './condition-operators.ts';
import { parsePolicyDocument, statementLabel, type Effect, type PolicyDocument, type PolicyKind, type Statement } from './policy-document.ts';
import { parseTemplate } from './policy-variables.ts';
import { compilePrincipal, type CompiledPrincipal } from './principal-match.ts';
import { compilePatternList, plainParts, type Matcher } from './wildcard.ts';

/**
 * A policy turned into matchers once, so that evaluating a request parses,
 * compiles and allocates nothing it can avoid: action lists become a set plus
 * wildcard matchers (lower-cased: action names are case-insensitive), resource
 * lists the same (case-sensitive), principals sets, conditions value tests.
 */

/** Which statement decided, as evaluatePolicies reports it. */
export interface StatementRef {
  /** The label given when compiling: a policy ARN, `inline:NAME`, ... */
  readonly policyId?: string;
  /** Counted from 0, in the order the policy lists its statements. */
  readonly statementIndex: number;
  readonly sid?: string;
  readonly effect: Effect;
}

export interface CompiledStatement {
  readonly ref: StatementRef;
  readonly effect: Effect;
  /** Matches the lower-cased action name. */
  readonly action: Matcher;
  /** NotAction: the statement applies to the actions that do not match. */
  readonly actionNegated: boolean;
  /** Absent in trust policies, which name no Resource: the statement applies to any. */
  readonly resource?: Matcher;
  readonly resourceNegated: boolean;
  /** Absent in identity policies, which apply to whoever they are attached to. */
  readonly principal?: CompiledPrincipal;
  readonly principalNegated: boolean;
  readonly conditions: readonly CompiledCondition[];
}

export interface CompiledPolicy {
  readonly policyId?: string;
  readonly document: PolicyDocument;
  readonly statements: readonly CompiledStatement[];
}

export interface CompileOptions {
  /** A label for the policy, carried into every StatementRef. */
  policyId?: string;
}

/** Throws DomainError('MalformedPolicyDocument') for what parsing lets through but evaluation cannot read (unknown operators, bad values, partial principal wildcards). */
export function compilePolicy(document: PolicyDocument, options: CompileOptions = {}): CompiledPolicy {
  const statements = document.statements.map((statement, index) => compileStatement(statement, index, document, options.policyId));
  return Object.freeze({ ...(options.policyId !== undefined ? { policyId: options.policyId } : {}), document, statements });
}

function compileStatement(statement: Statement, index: number, document: PolicyDocument, policyId: string | undefined): CompiledStatement {
  const label = statementLabel(index, statement.sid);
  const actions = (statement.action ?? statement.notAction)!;
  const resources = statement.resource ?? statement.notResource;
  const principal = statement.principal ?? statement.notPrincipal;
  const ref: StatementRef = Object.freeze({
    ...(policyId !== undefined ? { policyId } : {}),
    statementIndex: index,
    ...(statement.sid !== undefined ? { sid: statement.sid } : {}),
    effect: statement.effect,
  });
  return {
    ref,
    effect: statement.effect,
    action: compilePatternList(
      actions.map((name) => plainParts(name.toLowerCase())),
      'plain',
    ),
    actionNegated: statement.notAction !== undefined,
    ...(resources !== undefined
      ? {
          resource: compilePatternList(
            resources.map((arn) => parseTemplate(arn, document.version)),
            'resource',
          ),
        }
      : {}),
    resourceNegated: statement.notResource !== undefined,
    ...(principal !== undefined
      ? { principal: compilePrincipal(principal, label, statement.principal !== undefined ? 'Principal' : 'NotPrincipal') }
      : {}),
    principalNegated: statement.notPrincipal !== undefined,
    conditions: statement.conditions.map((clause) => compileCondition(clause, document.version, label)),
  };
}

export interface CacheOptions extends CompileOptions {
  /** Where the policy is used, which decides what its grammar allows (default identity). */
  kind?: PolicyKind;
  /** The cache key (a policy ARN and version, say); by default the kind, label and text. */
  cacheKey?: string;
}

/**
 * Compiled policies by key, at most `maxEntries` of them, the least recently
 * used dropped first. A policy that fails to compile is not cached: the error
 * is thrown again on the next try.
 */
export class PolicyCache {
  private readonly entries = new Map<string, CompiledPolicy>();

  constructor(readonly maxEntries = 1000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new DomainError('ValidationError', `A policy cache holds at least one policy, not ${maxEntries}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The compiled policy for `source` (JSON text, or a parsed policy value), compiling it on first use. */
  compile(source: string | unknown, options: CacheOptions = {}): CompiledPolicy {
    const kind = options.kind ?? 'identity';
    const key = options.cacheKey ?? `${kind}\u0000${options.policyId ?? ''}\u0000${typeof source === 'string' ? source : JSON.stringify(source)}`;
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const compiled = compilePolicy(parsePolicyDocument(source, kind), options);
    this.entries.set(key, compiled);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return compiled;
  }

  clear(): void {
    this.entries.clear();
  }
}
