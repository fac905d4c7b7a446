import { DomainError } from '../../core/errors.ts';
import { formatIssuePath } from '../../core/zod-issues.ts';
import { trafficStepsSchema, type TrafficStep } from './traffic-shape.ts';

/**
 * The steps of a traffic shape file: JSON, a list of `{ "atSeconds": n, "rps": r }`, or CSV, one
 * `seconds,rps` line per step (an optional header line, blank lines and `#` comments allowed).
 * Problems are refused naming the file and the step (the line, for CSV).
 */
export function parseTrafficSteps(text: string, source: string): TrafficStep[] {
  const refuse = (message: string) => new DomainError('ValidationError', `${source}: ${message}`, { field: 'file' });
  const trimmed = text.trimStart();
  if (trimmed === '') throw refuse('is empty; write a JSON list of { "atSeconds": n, "rps": r } steps, or CSV lines "seconds,rps"');
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw refuse(`is not valid JSON (${(error as Error).message})`);
    }
    return validated(parsed, (path) => `steps${formatIssuePath(path)}`, refuse);
  }
  const rows: { atSeconds: number; rps: number }[] = [];
  const lineNumbers: number[] = [];
  let firstLine = true;
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(',').map((cell) => cell.trim());
    const numbers = cells.map((cell) => (cell === '' ? NaN : Number(cell)));
    const isHeader = firstLine && cells.length === 2 && numbers.every(Number.isNaN); // such as "seconds,rps"
    firstLine = false;
    if (isHeader) continue;
    if (cells.length !== 2 || numbers.some(Number.isNaN)) {
      throw refuse(`line ${index + 1}: expected two numbers "seconds,rps", got "${line}"`);
    }
    rows.push({ atSeconds: numbers[0], rps: numbers[1] });
    lineNumbers.push(index + 1);
  }
  return validated(
    rows,
    (path) => {
      const [row, field] = path;
      const column = field === 'atSeconds' ? 'seconds' : field === 'rps' ? 'rps' : undefined;
      return typeof row === 'number' ? `line ${lineNumbers[row]}${column ? ` (${column})` : ''}` : 'steps';
    },
    refuse,
  );
}

function validated(
  input: unknown,
  where: (path: readonly PropertyKey[]) => string,
  refuse: (message: string) => DomainError,
): TrafficStep[] {
  const parsed = trafficStepsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw refuse(
    parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${where(issue.path)}: ${issue.message}`)
      .join('; '),
  );
}
