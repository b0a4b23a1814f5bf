/**
 * CoreDNS's `plugin/pkg/cache`: 256 shards, each a map holding at most
 * `max(size / 256, 4)` elements. Adding to a full shard evicts a random
 * element of that shard. Capacity is a hard bound: the total never exceeds
 * 256 × the shard size.
 *
 * Keys are the cache's hash values (up to 53 bits). The shard is the low 8
 * bits, as in CoreDNS; inside a shard the element is found by the next 30
 * bits, a small integer (no number boxing on lookups). Callers check that
 * an element is for their question, so a (rare) equal 38-bit prefix of two
 * keys is a miss, never a wrong answer.
 */

/** Number of shards (CoreDNS's `shardSize`). */
export const SHARDS = 256;

/** What a shard needs to remove an element in O(1): its position in the shard's key list. */
export interface Slotted {
  slot: number;
}

/** Bits 8..37 of a key: its tag inside the shard. */
function tagOf(key: number): number {
  return (key / 256) & 0x3fffffff;
}

class Shard<T extends Slotted> {
  readonly items = new Map<number, T>();
  /** The keys, densely packed, for picking a random one; `items.get(keys[i]).slot === i`. */
  readonly keys: number[] = [];
}

export class ShardedCache<T extends Slotted> {
  /** Capacity of each shard. */
  readonly shardSize: number;
  private readonly shards: Shard<T>[];
  private count = 0;
  /** Random source for evictions (tests may replace it). */
  random: () => number = Math.random;

  constructor(size: number) {
    // Go: max(size/shardSize, 4), integer division truncating toward zero
    this.shardSize = Math.max(Math.trunc(size / SHARDS), 4);
    this.shards = [];
    for (let i = 0; i < SHARDS; i++) this.shards.push(new Shard<T>());
  }

  /** Total capacity (256 × shard size). */
  get capacity(): number {
    return this.shardSize * SHARDS;
  }

  /**
   * Adds or replaces the element under `key`. Returns true when a (random)
   * other element of the full shard was evicted to make room.
   */
  add(key: number, el: T): boolean {
    const s = this.shards[key & (SHARDS - 1)]!;
    const tag = tagOf(key);
    const old = s.items.get(tag);
    if (old !== undefined) {
      el.slot = old.slot;
      s.items.set(tag, el);
      return false;
    }
    if (s.items.size >= this.shardSize) {
      const j = Math.floor(this.random() * s.keys.length);
      const victim = s.keys[j]!;
      s.items.delete(victim);
      s.keys[j] = tag;
      el.slot = j;
      s.items.set(tag, el);
      return true;
    }
    el.slot = s.keys.length;
    s.keys.push(tag);
    s.items.set(tag, el);
    this.count++;
    return false;
  }

  get(key: number): T | undefined {
    return this.shards[key & (SHARDS - 1)]!.items.get(tagOf(key));
  }

  /** Removes the element under `key`, if any. */
  remove(key: number): void {
    const s = this.shards[key & (SHARDS - 1)]!;
    const tag = tagOf(key);
    const el = s.items.get(tag);
    if (el === undefined) return;
    s.items.delete(tag);
    const last = s.keys.pop()!;
    if (last !== tag) {
      s.keys[el.slot] = last;
      s.items.get(last)!.slot = el.slot;
    }
    this.count--;
  }

  /** Number of elements. */
  len(): number {
    return this.count;
  }

  /** Visits every element (no order); `tag` is its key's bits 8..37, `shard` its low 8 bits. */
  forEach(f: (el: T, tag: number, shard: number) => void): void {
    for (let i = 0; i < SHARDS; i++) for (const [k, v] of this.shards[i]!.items) f(v, k, i);
  }
}
