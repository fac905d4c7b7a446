import type { VariableSource } from './policy-variables.ts';
import { compilePattern, plainParts } from './wildcard.ts';

/**
 * IAM's wildcard patterns as policy analysis needs them: `*` is any run of
 * characters, `?` any one. Action names compare case-insensitively (AWS treats
 * `sagemaker:describe*` and `sagemaker:Describe*` alike); ARNs case-sensitively.
 *
 * Matching is the evaluator's (wildcard.ts); this file answers the questions
 * only analysis asks: which catalog actions a pattern stands for, and whether
 * one pattern grants everything another does.
 */

const NO_VARIABLES: VariableSource = { singleValue: () => undefined };

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** Whether `text` (a concrete name) matches `pattern`. */
export function matchesWildcard(pattern: string, text: string, { ignoreCase }: { ignoreCase: boolean }): boolean {
  if (pattern === '*') return true;
  if (!hasWildcard(pattern)) return ignoreCase ? pattern.toLowerCase() === text.toLowerCase() : pattern === text;
  // The evaluator's matcher: no regular expression, so a pattern from a policy under validation cannot make matching slow.
  const matches = compilePattern(plainParts(ignoreCase ? pattern.toLowerCase() : pattern), 'plain');
  return matches(ignoreCase ? text.toLowerCase() : text, NO_VARIABLES);
}

/** Whether the action name (`sagemaker:InvokeEndpoint`) matches the action pattern (`sagemaker:*`, `*`). */
export function actionMatches(pattern: string, action: string): boolean {
  return matchesWildcard(pattern, action, { ignoreCase: true });
}

/** The catalog actions an action pattern stands for, in catalog order and spelling. */
export function expandActionPattern(pattern: string, knownActions: readonly string[]): string[] {
  return knownActions.filter((action) => actionMatches(pattern, action));
}

/** The catalog's spelling of an action name (`sagemaker:invokeendpoint` → `sagemaker:InvokeEndpoint`), if it is in the catalog. */
export function catalogSpelling(action: string, knownActions: readonly string[]): string | undefined {
  const lower = action.toLowerCase();
  return knownActions.find((known) => known.toLowerCase() === lower);
}

/**
 * Whether every string `specific` matches is also matched by `general`
 * (`sagemaker:*` covers `sagemaker:Describe*`; `arn:aws:s3:::*` covers
 * `arn:aws:s3:::bucket/key`). Sound but not complete: a `true` is always right,
 * and the rare pairs it cannot prove (`*?` against `?*`) answer `false`, which
 * only ever hides a redundancy, never invents one.
 */
export function wildcardCovers(general: string, specific: string, { ignoreCase }: { ignoreCase: boolean }): boolean {
  if (general === '*') return true;
  const g = ignoreCase ? general.toLowerCase() : general;
  const s = ignoreCase ? specific.toLowerCase() : specific;
  // memo[i * (s.length + 1) + j]: 0 unknown, 1 covers, 2 does not.
  const memo = new Uint8Array((g.length + 1) * (s.length + 1));
  const covers = (i: number, j: number): boolean => {
    const slot = i * (s.length + 1) + j;
    if (memo[slot] !== 0) return memo[slot] === 1;
    let result: boolean;
    if (i === g.length) result = j === s.length;
    else if (g[i] === '*') result = covers(i + 1, j) || (j < s.length && covers(i, j + 1));
    // `?` stands for exactly one character, so it covers a literal or a `?`, never a `*` (which may be empty or longer).
    else if (g[i] === '?') result = j < s.length && s[j] !== '*' && covers(i + 1, j + 1);
    else result = j < s.length && s[j] === g[i] && covers(i + 1, j + 1);
    memo[slot] = result ? 1 : 2;
    return result;
  };
  return covers(0, 0);
}
