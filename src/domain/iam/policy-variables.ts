import type { PolicyVersion } from './policy-document.ts';

/**
 * Policy variables (IAM User Guide, "IAM policy elements: Variables and tags"):
 * `${aws:username}`, `${aws:PrincipalTag/team}` or any other context key, with
 * an optional default `${aws:PrincipalTag/team, 'company-wide'}`, and the three
 * escapes `${*}`, `${?}`, `${$}` for the literal characters. They are read in
 * Resource / NotResource and in condition values, and only in policies of
 * Version 2012-10-17: in 2008-10-17 (or unversioned) policies `${...}` is text.
 *
 * A template is parsed once, at compile time, into parts: pattern text (where
 * `*` and `?` are wildcards, for the operators that have them), literal text
 * (from the escapes: never a wildcard) and variable references.
 */

export interface VariableRef {
  readonly kind: 'variable';
  /** The context key, lower-cased: context-key names are case-insensitive. */
  readonly key: string;
  /** As written, for messages. */
  readonly name: string;
  readonly defaultValue?: string;
}

export type TemplatePart = { readonly kind: 'pattern'; readonly text: string } | { readonly kind: 'literal'; readonly text: string } | VariableRef;

/** Where variables get their values: the single string value of a context key, by lower-cased name. */
export interface VariableSource {
  singleValue(lowerCaseKey: string): string | undefined;
}

const VARIABLE = /\$\{([^}]*)\}/g;
/** `key` or `key, 'default'`; the key is a context-key name (no spaces, quotes or commas). */
const REFERENCE = /^\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?$/;
const ESCAPES: Record<string, string> = { '*': '*', '?': '?', $: '$' };

export function parseTemplate(text: string, version: PolicyVersion): readonly TemplatePart[] {
  if (version !== '2012-10-17' || !text.includes('${')) return [{ kind: 'pattern', text }];
  const parts: TemplatePart[] = [];
  let pending = '';
  let last = 0;
  for (const match of text.matchAll(VARIABLE)) {
    const inner = match[1];
    const escaped = ESCAPES[inner];
    const reference = escaped === undefined ? REFERENCE.exec(inner) : null;
    if (escaped === undefined && reference === null) continue;
    pending += text.slice(last, match.index);
    last = match.index + match[0].length;
    if (pending !== '') parts.push({ kind: 'pattern', text: pending });
    pending = '';
    if (escaped !== undefined) {
      parts.push({ kind: 'literal', text: escaped });
    } else {
      const [, name, defaultValue] = reference!;
      parts.push({ kind: 'variable', key: name.toLowerCase(), name, ...(defaultValue !== undefined ? { defaultValue } : {}) });
    }
  }
  pending += text.slice(last);
  if (pending !== '') parts.push({ kind: 'pattern', text: pending });
  return parts;
}

export function hasVariables(parts: readonly TemplatePart[]): boolean {
  return parts.some((part) => part.kind === 'variable');
}

/**
 * A variable's value: the context key's value when it has exactly one, else
 * the default. A key that is absent or multivalued, with no default, has no
 * value, and the element that uses it does not match.
 */
export function resolveVariable(ref: VariableRef, source: VariableSource): string | undefined {
  return source.singleValue(ref.key) ?? ref.defaultValue;
}

/** Every variable of the template has a value. */
export function isResolvable(parts: readonly TemplatePart[], source: VariableSource): boolean {
  for (const part of parts) {
    if (part.kind === 'variable' && resolveVariable(part, source) === undefined) return false;
  }
  return true;
}

/** The template as a plain string (wildcards not special), or undefined when a variable has no value. */
export function resolveTemplate(parts: readonly TemplatePart[], source: VariableSource): string | undefined {
  if (parts.length === 1 && parts[0].kind !== 'variable') return parts[0].text;
  let text = '';
  for (const part of parts) {
    if (part.kind === 'variable') {
      const value = resolveVariable(part, source);
      if (value === undefined) return undefined;
      text += value;
    } else {
      text += part.text;
    }
  }
  return text;
}

/** The template's text when it has no variables (escapes applied). */
export function staticText(parts: readonly TemplatePart[]): string | undefined {
  let text = '';
  for (const part of parts) {
    if (part.kind === 'variable') return undefined;
    text += part.text;
  }
  return text;
}
