import { DomainError } from './errors.ts';

const UNIT_SECONDS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * A duration as people write it on a command line: `90` (seconds), `90s`, `1.5s`, `500ms`, `2m`,
 * `1m30s`, `1h`, `7d`. Refused with a message naming `field` when it is anything else or not positive.
 */
export function parseDurationSeconds(text: string, field: string): number {
  const trimmed = text.trim();
  const refuse = (why: string) =>
    new DomainError('ValidationError', `${field}: ${why}; write it like 90s, 500ms, 2m, 1m30s or 7d`, { field: field.replace(/^--/, '') });
  if (/^\d+(\.\d+)?$/.test(trimmed)) return positive(Number(trimmed), refuse);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== trimmed) throw refuse(`"${text}" is not a duration`);
  return positive(
    parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * UNIT_SECONDS[unit], 0),
    refuse,
  );
}

function positive(seconds: number, refuse: (why: string) => DomainError): number {
  if (!(seconds > 0) || !Number.isFinite(seconds)) throw refuse('must be more than zero');
  return seconds;
}
