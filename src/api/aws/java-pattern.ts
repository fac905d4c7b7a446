/**
 * Java regular expressions, as the models write them, translated to JavaScript.
 * AWS matches them with Java's `matches()`, against the whole value: a pattern
 * without `$` still has to consume everything. Java-only syntax is translated:
 * POSIX classes (`\p{Alpha}`, ...), `\p{IsX}` properties, `\A` `\z` `\Z`,
 * possessive quantifiers (as greedy ones: the same language for every pattern the
 * models use) and leading inline flags; Java's `\s` and `.` keep their narrower
 * Java sets. What cannot be translated (class intersections, nested classes,
 * Unicode blocks, atomic groups, inline flags past the start) throws
 * UntranslatablePatternError.
 */
export class UntranslatablePatternError extends Error {
  constructor(pattern: string, reason: string) {
    super(`Cannot translate the Java pattern ${pattern} to JavaScript: ${reason}`);
    this.name = 'UntranslatablePatternError';
  }
}

const compiled = new Map<string, RegExp | UntranslatablePatternError>();

/** The compiled, whole-string translation of a Java pattern; cached, so each compiles once. */
export function javaPattern(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (!regex) {
    try {
      const { source, flags } = translateJavaPattern(pattern);
      // Lookarounds rather than ^ and $, which an (?m) flag would turn into line anchors.
      regex = new RegExp(`(?<![\\s\\S])(?:${source})(?![\\s\\S])`, `u${flags}`);
    } catch (error) {
      regex = error instanceof UntranslatablePatternError ? error : new UntranslatablePatternError(pattern, (error as Error).message);
    }
    compiled.set(pattern, regex);
  }
  if (regex instanceof UntranslatablePatternError) throw regex;
  return regex;
}

const JAVA_SPACE = '\\t-\\r ';
const JAVA_NON_SPACE = '\\0-\\x08\\x0E-\\x1F\\x21-\\u{10FFFF}';
const LINE_TERMINATORS = '\\n\\r\\u0085\\u2028\\u2029';
/** Java's POSIX classes (ASCII-only, as Java reads them by default) and its own LD and all. */
const JAVA_SETS: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\0-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '!-~',
  Print: ' -~',
  Blank: ' \\t',
  Cntrl: '\\0-\\x1F\\x7F',
  XDigit: '0-9a-fA-F',
  Space: JAVA_SPACE,
  LD: '\\p{L}\\p{Nd}',
  all: '\\0-\\u{10FFFF}',
};
const INLINE_FLAGS: Record<string, string> = { i: 'i', m: 'm', s: 's', u: '' };
const SYNTAX_CHARACTERS = '^$\\.*+?()[]{}|/';

/** An atom of a character class: one character (which can end a range) or a set. */
interface ClassItem {
  text: string;
  single: boolean;
}

export function translateJavaPattern(pattern: string): { source: string; flags: string } {
  const fail = (reason: string): never => {
    throw new UntranslatablePatternError(pattern, reason);
  };
  let flags = '';
  let i = 0;
  const leading = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (leading) {
    for (const flag of leading[1]) flags += INLINE_FLAGS[flag] ?? fail(`inline flag ${flag}`);
    i = leading[0].length;
  }
  const dot = flags.includes('s') ? '.' : `[^${LINE_TERMINATORS}]`;

  const literal = (char: string, inClass: boolean): string => {
    if (inClass) return '\\]-[^'.includes(char) ? `\\${char}` : char;
    return SYNTAX_CHARACTERS.includes(char) ? `\\${char}` : char;
  };

  /** The escape at `i` (pointing at the backslash), inside a class or not. */
  const escape = (inClass: boolean): ClassItem => {
    const char = pattern[i + 1] ?? fail('trailing backslash');
    i += 2;
    const wrap = (set: string): ClassItem => ({ text: inClass ? set : `[${set}]`, single: false });
    switch (char) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return { text: `\\${char}`, single: false };
      case 's':
        return wrap(JAVA_SPACE);
      case 'S':
        return wrap(JAVA_NON_SPACE);
      case 't':
      case 'n':
      case 'r':
      case 'f':
        return { text: `\\${char}`, single: true };
      case 'x': {
        const hex = /^[0-9a-fA-F]{2}/.exec(pattern.slice(i)) ?? fail('bad \\x escape');
        i += 2;
        return { text: `\\x${hex[0]}`, single: true };
      }
      case 'u': {
        const hex = /^[0-9a-fA-F]{4}/.exec(pattern.slice(i)) ?? fail('bad \\u escape');
        i += 4;
        return { text: `\\u${hex[0]}`, single: true };
      }
      case '0': {
        const octal = /^[0-7]{1,3}/.exec(pattern.slice(i)) ?? fail('bad octal escape');
        i += octal[0].length;
        return { text: `\\u{${parseInt(octal[0], 8).toString(16)}}`, single: true };
      }
      case 'p':
      case 'P': {
        const braced = /^\{([^}]*)\}/.exec(pattern.slice(i));
        const name = braced ? braced[1] : (pattern[i] ?? fail('bad \\p escape'));
        i += braced ? braced[0].length : 1;
        const set = JAVA_SETS[name];
        if (set !== undefined) {
          if (char === 'p') return wrap(set);
          if (inClass) fail(`\\P{${name}} inside a character class`);
          return { text: `[^${set}]`, single: false };
        }
        if (name.startsWith('In')) fail(`Unicode block ${name}`);
        // Java's IsAlphabetic, IsLetter, ... are JavaScript's Alphabetic, Letter, ...
        const property = name.startsWith('Is') ? name.slice(2) : name;
        return { text: `\\${char}{${property}}`, single: false };
      }
      case 'A':
      case 'z':
      case 'Z':
      case 'b':
      case 'B':
        if (inClass) fail(`\\${char} inside a character class`);
        if (char === 'A') return { text: '(?<![\\s\\S])', single: false };
        if (char === 'z') return { text: '(?![\\s\\S])', single: false };
        if (char === 'Z') return { text: `(?=(?:\\r\\n|[${LINE_TERMINATORS}])?(?![\\s\\S]))`, single: false };
        return { text: `\\${char}`, single: false };
      default:
        if (/[1-9]/.test(char) && !inClass) return { text: `\\${char}`, single: false };
        if (/[a-zA-Z0-9]/.test(char)) fail(`escape \\${char}`);
        return { text: literal(char, inClass), single: true };
    }
  };

  const characterClass = (): string => {
    i += 1;
    let text = '[';
    if (pattern[i] === '^') {
      text += '^';
      i += 1;
    }
    const items: (ClassItem | 'dash')[] = [];
    // Java reads a `]` straight after the opening bracket as a literal.
    if (pattern[i] === ']') {
      items.push({ text: '\\]', single: true });
      i += 1;
    }
    while (pattern[i] !== ']') {
      const char = pattern[i] ?? fail('unclosed character class');
      if (char === '[') fail('nested character class');
      if (char === '&' && pattern[i + 1] === '&') fail('character class intersection');
      if (char === '\\') items.push(escape(true));
      else if (char === '-') {
        items.push('dash');
        i += 1;
      } else {
        const codePoint = String.fromCodePoint(pattern.codePointAt(i)!);
        items.push({ text: literal(codePoint, true), single: true });
        i += codePoint.length;
      }
    }
    i += 1;
    // A dash makes a range only between two single characters; anywhere else Java reads it as itself.
    items.forEach((item, index) => {
      if (item !== 'dash') {
        text += item.text;
        return;
      }
      const before = items[index - 1];
      const after = items[index + 1];
      const range = typeof before === 'object' && before.single && typeof after === 'object' && after.single;
      text += range ? '-' : '\\-';
      if (range) {
        text += after.text;
        // The end of a range cannot start another.
        items[index + 1] = { text: '', single: false };
      }
    });
    return `${text}]`;
  };

  let source = '';
  /** After a quantifier: `?` (lazy) is kept; `+` (possessive) has no JavaScript form and is dropped. */
  const quantifierSuffix = (): void => {
    if (pattern[i] === '?') {
      source += '?';
      i += 1;
    } else if (pattern[i] === '+') i += 1;
  };

  while (i < pattern.length) {
    const char = pattern[i];
    if (char === '\\') source += escape(false).text;
    else if (char === '[') source += characterClass();
    else if (char === '.') {
      source += dot;
      i += 1;
    } else if (char === '(') {
      const group = /^\((\?(?::|=|!|<=|<!|<[a-zA-Z][a-zA-Z0-9]*>))?/.exec(pattern.slice(i))!;
      if (pattern[i + 1] === '?' && group[1] === undefined) fail(`group ${pattern.slice(i, i + 3)}`);
      source += group[0];
      i += group[0].length;
    } else if (char === '*' || char === '+' || char === '?') {
      source += char;
      i += 1;
      quantifierSuffix();
    } else if (char === '{') {
      const bounds = /^\{\d+(,\d*)?\}/.exec(pattern.slice(i));
      source += bounds ? bounds[0] : '\\{';
      i += bounds ? bounds[0].length : 1;
      if (bounds) quantifierSuffix();
    } else if (char === '}' || char === ']') {
      source += `\\${char}`;
      i += 1;
    } else {
      const codePoint = String.fromCodePoint(pattern.codePointAt(i)!);
      source += codePoint;
      i += codePoint.length;
    }
  }
  return { source, flags };
}
