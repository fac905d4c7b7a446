import type { ObjectiveType } from './search-space.ts';

/** An objective value on one scale where lower is better: negated when maximising, and a value that is not a number (a diverged loss) the worst of all. */
export function lossOf(value: number, objective: ObjectiveType): number {
  if (Number.isNaN(value)) return Infinity;
  return objective === 'Minimize' ? value : -value;
}

/** A comparator that, unlike a - b, also orders infinities. */
export function ascending(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
