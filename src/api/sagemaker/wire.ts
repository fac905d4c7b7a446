import type { Tag } from '../../domain/tags.ts';

/** Shapes every SageMaker operation shares on the wire. */

export interface WireTag {
  Key: string;
  Value: string;
}

/** Timestamps in the JSON protocols are epoch seconds, with the milliseconds as a fraction. */
export function epochSeconds(ms: number): number;
export function epochSeconds(ms: number | undefined): number | undefined;
export function epochSeconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

export function tagsFromWire(tags: readonly WireTag[] | undefined): Tag[] {
  return (tags ?? []).map((tag) => ({ key: tag.Key, value: tag.Value }));
}

export function tagsToWire(tags: readonly Tag[]): WireTag[] {
  return tags.map((tag) => ({ Key: tag.key, Value: tag.value }));
}

/** Drops members whose value is undefined, so optional members are absent rather than null. */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}
