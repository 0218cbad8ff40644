/**
 * A sorted list kept as a list of small sorted chunks: insert, remove and
 * rank ("how many items come before this one") cost O(√n)-ish instead of the
 * O(n) of one big array's `splice`. Items must be unique by identity, and an
 * item's order key must not change while it is in the list.
 */
const MAX_CHUNK = 512;

export class SortedList<T> {
  readonly #chunks: T[][] = [];
  readonly #before: (a: T, b: T) => boolean;
  #size = 0;

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  get size(): number {
    return this.#size;
  }

  insert(item: T): void {
    const chunks = this.#chunks;
    if (chunks.length === 0) {
      chunks.push([item]);
      this.#size++;
      return;
    }
    const c = this.#chunkFor(item);
    const chunk = chunks[c]!;
    chunk.splice(this.#lowerBound(chunk, item), 0, item);
    this.#size++;
    if (chunk.length > MAX_CHUNK) chunks.splice(c + 1, 0, chunk.splice(MAX_CHUNK >> 1));
  }

  /** Removes `item` (found by identity). Returns false if it is not in the list. */
  remove(item: T): boolean {
    const chunks = this.#chunks;
    if (chunks.length === 0) return false;
    const c = this.#chunkFor(item);
    const chunk = chunks[c]!;
    const index = this.#lowerBound(chunk, item);
    if (chunk[index] !== item) return false;
    chunk.splice(index, 1);
    this.#size--;
    if (chunk.length === 0) chunks.splice(c, 1);
    return true;
  }

  *[Symbol.iterator](): Generator<T> {
    for (const chunk of this.#chunks) yield* chunk;
  }

  /** The number of items that come strictly before `item`'s position. */
  rank(item: T): number {
    let count = 0;
    for (const chunk of this.#chunks) {
      const last = chunk[chunk.length - 1]!;
      if (this.#before(last, item)) {
        count += chunk.length;
        continue;
      }
      return count + this.#lowerBound(chunk, item);
    }
    return count;
  }

  /** Index of the chunk where `item` belongs: the first whose last item does not come before it. */
  #chunkFor(item: T): number {
    const chunks = this.#chunks;
    let low = 0;
    let high = chunks.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      const chunk = chunks[mid]!;
      if (this.#before(chunk[chunk.length - 1]!, item)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #lowerBound(chunk: T[], item: T): number {
    let low = 0;
    let high = chunk.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.#before(chunk[mid]!, item)) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
