import { DomainError } from '../../core/errors.ts';

/**
 * MetricDefinitions of a training job: a name and a Python regular expression
 * whose first group is the value, matched against each line of the job's log,
 * as SageMaker scrapes a script's output into its metrics.
 */

function invalid(field: string, message: string): DomainError {
  return new DomainError('ValidationError', message, { field });
}

export interface MetricDefinition {
  name: string;
  regex: string;
}

export interface CompiledMetricDefinition {
  name: string;
  pattern: RegExp;
}

export interface MetricSample {
  name: string;
  value: number;
}

/** Python flags a pattern may open with: i, m and s have JavaScript twins; a and u are how JavaScript reads \d and \w anyway. */
const PYTHON_FLAGS: Readonly<Record<string, string>> = { i: 'i', m: 'm', s: 's', a: '', u: '' };

/**
 * A metric regex in JavaScript's dialect. SageMaker's regexes are written for
 * Python, so the Python spellings JavaScript lacks are translated: (?P<name>…),
 * (?P=name), \A and \Z, a leading (?i), and `]` first in a class. What stays
 * different: \d and \w match ASCII only, and atomic groups, possessive
 * quantifiers and verbose mode are not understood (the regex is refused).
 */
function toJavaScript(regex: string): RegExp {
  let flags = '';
  let source = regex;
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(source);
  if (inline) {
    for (const flag of inline[1]) {
      if (!Object.hasOwn(PYTHON_FLAGS, flag)) throw new SyntaxError(`the inline flag (?${flag}) has no JavaScript equivalent`);
      flags += PYTHON_FLAGS[flag];
    }
    source = source.slice(inline[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      const next = source[i + 1] ?? '';
      out += !inClass && next === 'A' ? '^' : !inClass && next === 'Z' ? '$' : ch + next;
      i++;
    } else if (inClass) {
      inClass = ch !== ']';
      out += ch;
    } else if (ch === '[') {
      inClass = true;
      const negated = source[i + 1] === '^';
      out += negated ? '[^' : '[';
      if (negated) i++;
      // Python reads a ] right after the opening bracket as a literal; JavaScript would close an empty class.
      if (source[i + 1] === ']') (out += '\\]'), i++;
    } else if (source.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (source.startsWith('(?P=', i)) {
      const end = source.indexOf(')', i);
      if (end === -1) throw new SyntaxError('a (?P=name) backreference is not closed');
      out += `\\k<${source.slice(i + 4, end)}>`;
      i = end;
    } else {
      out += ch;
    }
  }
  return new RegExp(out, flags);
}

/**
 * Checks MetricDefinitions before a job runs. SageMaker applies each regex to
 * every line the script prints, on stdout and stderr, and takes the metric's
 * value from the first capture group; a regex that cannot be compiled, or has
 * no group to take a value from, is refused naming the metric.
 */
export function compileMetricDefinitions(
  definitions: readonly MetricDefinition[],
  field = 'AlgorithmSpecification.MetricDefinitions',
): CompiledMetricDefinition[] {
  const names = new Set<string>();
  return definitions.map(({ name, regex }, index) => {
    const where = `${field}[${index}] (${name})`;
    if (names.has(name)) throw invalid(field, `${where}: the metric ${name} is defined twice; give each definition its own Name`);
    names.add(name);
    let pattern: RegExp;
    try {
      pattern = toJavaScript(regex);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw invalid(field, `${where}: Regex ${JSON.stringify(regex)} is not a valid regular expression (${reason}). Write it as SageMaker expects, e.g. "loss=([0-9.]+)"`);
    }
    // An empty alternative always matches, so the result's length counts the groups.
    const groups = new RegExp(`${pattern.source}|`, pattern.flags).exec('')!.length - 1;
    if (groups === 0) {
      throw invalid(field, `${where}: Regex ${JSON.stringify(regex)} has no capture group; the metric's value is the text of the first group in parentheses, e.g. "loss=([0-9.]+)"`);
    }
    return { name, pattern };
  });
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The metrics one log line reports: the first match of each regex whose first group reads as a finite number. */
export function scrapeMetrics(line: string, metrics: readonly CompiledMetricDefinition[]): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const { name, pattern } of metrics) {
    const text = pattern.exec(line)?.[1]?.trim();
    if (text === undefined || !DECIMAL.test(text)) continue;
    const value = Number(text);
    if (Number.isFinite(value)) samples.push({ name, value });
  }
  return samples;
}
