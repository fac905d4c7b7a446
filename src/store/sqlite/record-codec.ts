/**
 * JSON text for the `record` columns. Plain JSON turns NaN and ±Infinity into
 * null and -0 into 0, and a diverging training run really does report a NaN
 * loss, so those numbers are written as {"$number": "NaN" | "Infinity" |
 * "-Infinity" | "-0"} and restored on read. Everything else is ordinary JSON,
 * readable with the sqlite3 shell and json_extract().
 */

const NUMBER_TAG = '$number';

function encodeNumber(value: number): { [NUMBER_TAG]: string } | number {
  if (Number.isNaN(value)) return { [NUMBER_TAG]: 'NaN' };
  if (value === Infinity) return { [NUMBER_TAG]: 'Infinity' };
  if (value === -Infinity) return { [NUMBER_TAG]: '-Infinity' };
  if (Object.is(value, -0)) return { [NUMBER_TAG]: '-0' };
  return value;
}

export function encodeRecord(record: unknown): string {
  return JSON.stringify(record, (_key, value: unknown) => (typeof value === 'number' ? encodeNumber(value) : value));
}

/** Restores the tagged numbers; JSON.parse calls it for every value, so it runs only on text that has a tag. */
function reviveNumber(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const tagged = (value as Record<string, unknown>)[NUMBER_TAG];
    if (keys.length === 1 && typeof tagged === 'string') return Number(tagged);
  }
  return value;
}

export function decodeRecord<T>(text: string): T {
  return (text.includes(`"${NUMBER_TAG}"`) ? JSON.parse(text, reviveNumber) : JSON.parse(text)) as T;
}
