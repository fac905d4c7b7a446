import { resolveVariable, type TemplatePart, type VariableRef, type VariableSource } from './policy-variables.ts';

/**
 * The `*` (any run of characters) and `?` (any one character) wildcards of
 * policies, compiled once into matchers that take no regular expression and
 * allocate nothing per request. Text between wildcards is compared literally,
 * so nothing in a pattern (`.`, `+`, `(`, `[`, `\`) is ever special but the
 * two wildcards.
 *
 * Three modes, as the IAM User Guide describes each element:
 * - `plain`: Action / NotAction (compared lower-cased: action names are
 *   case-insensitive) and StringLike: wildcards match any character.
 * - `resource`: Resource / NotResource. "You can use wildcard characters
 *   (* and ?) within any ARN segment (the parts separated by colons) ... If
 *   the * wildcard is the last character of a resource ARN segment, it can
 *   expand to match beyond the colon boundaries." So a `*` followed by `:` or
 *   ending the pattern matches anything; any other `*`, and every `?`, stays
 *   within its segment (`arn:aws:s3:::bucket/*` matches nested keys, since `/`
 *   is no segment boundary).
 * - `arn`: ArnLike / ArnEquals and their negations: "Each of the six
 *   colon-delimited components of the ARN is checked separately": wildcards in
 *   the first five components never match a colon; in the sixth (the resource,
 *   which may itself contain colons) they match anything.
 */
export type WildcardMode = 'plain' | 'resource' | 'arn';

export interface Wildcard {
  readonly kind: 'star' | 'one';
  readonly crossesColon: boolean;
}

/** A compiled pattern: literal text, a wildcard, or a policy variable (matched as literal text once resolved). */
export type PatternToken = string | Wildcard | VariableRef;

/** Whether `text` matches; variables take their values from `variables` (a pattern without variables ignores it). */
export type Matcher = (text: string, variables: VariableSource) => boolean;

const COLON = 58;
const STAR_ANY: Wildcard = Object.freeze({ kind: 'star', crossesColon: true });
const STAR_SEGMENT: Wildcard = Object.freeze({ kind: 'star', crossesColon: false });
const ONE_ANY: Wildcard = Object.freeze({ kind: 'one', crossesColon: true });
const ONE_SEGMENT: Wildcard = Object.freeze({ kind: 'one', crossesColon: false });

/** Tokens of a template: pattern text split at its wildcards, adjacent literals merged, runs of `*` collapsed. */
export function patternTokens(parts: readonly TemplatePart[], mode: WildcardMode): PatternToken[] {
  const tokens: PatternToken[] = [];
  let literal = '';
  let colons = 0;
  const flush = () => {
    if (literal !== '') tokens.push(literal);
    literal = '';
  };
  /** What follows position `index` of part `partIndex`: a colon, the end, or something else. */
  const nextIsColonOrEnd = (partIndex: number, index: number): boolean => {
    for (let p = partIndex; p < parts.length; p++) {
      const part = parts[p];
      if (part.kind === 'variable') return false;
      const from = p === partIndex ? index : 0;
      if (from < part.text.length) return part.text.charCodeAt(from) === COLON;
    }
    return true;
  };
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    if (part.kind === 'variable') {
      flush();
      tokens.push(part);
      continue;
    }
    for (let i = 0; i < part.text.length; i++) {
      const char = part.text[i];
      const wildcard = part.kind === 'pattern' && (char === '*' || char === '?');
      if (!wildcard) {
        literal += char;
        if (char === ':') colons++;
        continue;
      }
      flush();
      const crossesColon =
        mode === 'plain' || (mode === 'arn' ? colons >= 5 || isLoneStar(parts) : char === '*' && nextIsColonOrEnd(p, i + 1));
      if (char === '?') {
        tokens.push(crossesColon ? ONE_ANY : ONE_SEGMENT);
        continue;
      }
      const previous = tokens[tokens.length - 1];
      if (typeof previous === 'object' && previous.kind === 'star') {
        if (crossesColon) tokens[tokens.length - 1] = STAR_ANY;
      } else {
        tokens.push(crossesColon ? STAR_ANY : STAR_SEGMENT);
      }
    }
  }
  flush();
  return tokens;
}

/** Compiles one template; the common shapes (exact, `*`, `prefix*`, `*suffix`) get direct string tests. */
export function compilePattern(parts: readonly TemplatePart[], mode: WildcardMode): Matcher {
  return compileTokens(patternTokens(parts, mode));
}

function compileTokens(tokens: readonly PatternToken[]): Matcher {
  if (tokens.length === 0) return (text) => text === '';
  if (tokens.length === 1) {
    const [only] = tokens;
    if (typeof only === 'string') return (text) => text === only;
    if (only === STAR_ANY) return () => true;
  }
  if (tokens.length === 2) {
    const [first, second] = tokens;
    if (typeof first === 'string' && second === STAR_ANY) return (text) => text.startsWith(first);
    if (first === STAR_ANY && typeof second === 'string') return (text) => text.endsWith(second);
  }
  const stars = tokens.filter((token) => typeof token === 'object' && token.kind === 'star').length;
  const match: Matcher =
    stars < 2
      ? (text, variables) => matchFrom(tokens, 0, text, 0, variables, false)
      : (text, variables) => {
          startMemo(tokens.length, text.length);
          return matchFrom(tokens, 0, text, 0, variables, true);
        };
  const required = innerLiteral(tokens);
  return required === undefined ? match : (text, variables) => text.includes(required) && match(text, variables);
}

/**
 * The longest literal after the first token, if longer than one character. A text
 * that matches contains every literal of the pattern, so looking for this one first
 * turns most non-matches (`arn:aws:sagemaker:*:*:domain/*` against an endpoint's
 * ARN) into one search, before any backtracking.
 */
function innerLiteral(tokens: readonly PatternToken[]): string | undefined {
  let longest: string | undefined;
  for (let t = 1; t < tokens.length; t++) {
    const token = tokens[t];
    if (typeof token === 'string' && token.length > (longest?.length ?? 1)) longest = token;
  }
  return longest;
}

/**
 * One matcher for a list of patterns (any matches): exact texts in a set,
 * the rest tried in order. `*` alone makes the whole list match everything.
 */
export function compilePatternList(list: readonly (readonly TemplatePart[])[], mode: WildcardMode): Matcher {
  const exact = new Set<string>();
  const others: Matcher[] = [];
  for (const parts of list) {
    const tokens = patternTokens(parts, mode);
    if (tokens.length === 1 && tokens[0] === STAR_ANY) return () => true;
    if (tokens.length === 1 && typeof tokens[0] === 'string') exact.add(tokens[0]);
    else if (tokens.length === 0) exact.add('');
    else others.push(compileTokens(tokens));
  }
  if (others.length === 0) return (text) => exact.has(text);
  if (exact.size === 0 && others.length === 1) return others[0];
  return (text, variables) => {
    if (exact.has(text)) return true;
    for (const matcher of others) if (matcher(text, variables)) return true;
    return false;
  };
}

/**
 * Which (token, position) pairs are known to fail in the current match, so
 * that a pattern with several stars (`*a*a*a*b`) costs at most tokens ×
 * positions tries instead of exponentially many. Entries carry the number of
 * the match that wrote them, so the buffer never needs clearing.
 */
let failed = new Uint32Array(4096);
let matchNumber = 0;
let memoWidth = 0;

function startMemo(tokenCount: number, textLength: number): void {
  memoWidth = textLength + 1;
  const size = (tokenCount + 1) * memoWidth;
  if (size > failed.length) failed = new Uint32Array(Math.max(size, failed.length * 2));
  if (++matchNumber === 0xffffffff) {
    failed.fill(0);
    matchNumber = 1;
  }
}

function matchAt(tokens: readonly PatternToken[], start: number, text: string, position: number, variables: VariableSource, memo: boolean): boolean {
  if (!memo) return matchFrom(tokens, start, text, position, variables, false);
  const key = start * memoWidth + position;
  if (failed[key] === matchNumber) return false;
  const matched = matchFrom(tokens, start, text, position, variables, true);
  if (!matched) failed[key] = matchNumber;
  return matched;
}

/**
 * Backtracks only at stars, and there jumps straight to the places where the
 * literal after the star occurs. Stars that may not cross a colon stop at the
 * first one, which also bounds the search.
 */
function matchFrom(tokens: readonly PatternToken[], start: number, text: string, position: number, variables: VariableSource, memo: boolean): boolean {
  let pos = position;
  for (let t = start; t < tokens.length; t++) {
    const token = tokens[t];
    if (typeof token === 'string') {
      if (!text.startsWith(token, pos)) return false;
      pos += token.length;
      continue;
    }
    if (token.kind === 'variable') {
      const value = resolveVariable(token, variables);
      if (value === undefined || !text.startsWith(value, pos)) return false;
      pos += value.length;
      continue;
    }
    if (token.kind === 'one') {
      if (pos >= text.length || (!token.crossesColon && text.charCodeAt(pos) === COLON)) return false;
      pos++;
      continue;
    }
    let limit = text.length;
    if (!token.crossesColon) {
      const colon = text.indexOf(':', pos);
      if (colon >= 0) limit = colon;
    }
    if (t + 1 === tokens.length) return limit === text.length;
    const next = tokens[t + 1];
    if (typeof next === 'string') {
      for (let at = text.indexOf(next, pos); at >= 0 && at <= limit; at = text.indexOf(next, at + 1)) {
        if (matchAt(tokens, t + 2, text, at + next.length, variables, memo)) return true;
      }
      return false;
    }
    for (let end = pos; end <= limit; end++) {
      if (matchAt(tokens, t + 1, text, end, variables, memo)) return true;
    }
    return false;
  }
  return pos === text.length;
}

/** `"*"` alone: in `arn` mode it still matches every ARN, as it does everywhere else. */
function isLoneStar(parts: readonly TemplatePart[]): boolean {
  return parts.length === 1 && parts[0].kind === 'pattern' && /^\*+$/.test(parts[0].text);
}

/** A template that is all pattern text, for elements that take no variables (Action, and everything in 2008-10-17 policies). */
export function plainParts(text: string): readonly TemplatePart[] {
  return [{ kind: 'pattern', text }];
}
