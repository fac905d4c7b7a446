/**
 * What is worked out from IAM's state (opened secrets, compiled policy sets),
 * by key, kept until IAM next changes: `generation` counts IAM's writes, and a
 * different count empties the cache. Every STS session is a key of its own,
 * so past `maxEntries` the cache starts over rather than grow without bound.
 * A key whose value cannot be worked out (`load` answers undefined) is not
 * kept, or random keys would grow it.
 */
export class IamDerivedCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #generation: () => number;
  readonly #maxEntries: number;
  #seenGeneration = Number.NaN;

  constructor(generation: () => number, maxEntries: number) {
    this.#generation = generation;
    this.#maxEntries = maxEntries;
  }

  get(key: string, load: () => V | undefined): V | undefined {
    const generation = this.#generation();
    if (generation !== this.#seenGeneration) {
      this.#entries.clear();
      this.#seenGeneration = generation;
    }
    let value = this.#entries.get(key);
    if (value === undefined) {
      value = load();
      if (value === undefined) return undefined;
      if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
      this.#entries.set(key, value);
    }
    return value;
  }
}
