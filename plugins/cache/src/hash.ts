/**
 * The cache key: CoreDNS's FNV-1 64-bit hash (Go's `hash/fnv.New64`) of the
 * DO bit, the CD bit, qtype, qclass and the lower-cased qname. The 64-bit
 * state is two 32-bit halves in local variables (no BigInt, no allocation on
 * the query path).
 *
 * The key is a JavaScript number holding the low 53 bits of the hash; the
 * shard is the low 8 bits, as in CoreDNS (`key & 255`).
 */
import { goToLower } from '@tsdns/core';

/** The FNV-64 prime is 2^40 + 0x1b3. */
const P = 0x1b3;
const OFFSET_HI = 0xcbf29ce4 | 0;
const OFFSET_LO = 0x84222325 | 0;
const TWO32 = 4294967296;

/** The hash state between the header and the name (hi, lo as int32). */
const state = new Int32Array(2);

/**
 * FNV-1 over the bytes `x` from `state`; h = h·(2^40 + 0x1b3) mod 2^64 is
 * hi' = hi·0x1b3 + carry(lo·0x1b3) + lo·2^8, lo' = lo·0x1b3 (mod 2^32 each).
 */
function headHash(dnssecOk: boolean, cd: boolean, qtype: number, qclass: number): void {
  let hi = OFFSET_HI;
  let lo = OFFSET_LO;
  for (let i = 0; i < 6; i++) {
    let x: number;
    switch (i) {
      case 0: x = dnssecOk ? 0x31 : 0x30; break;
      case 1: x = cd ? 0x31 : 0x30; break;
      case 2: x = (qtype >>> 8) & 0xff; break;
      case 3: x = qtype & 0xff; break;
      case 4: x = (qclass >>> 8) & 0xff; break;
      default: x = qclass & 0xff;
    }
    const carry = (((lo >>> 16) * P) + (((lo & 0xffff) * P) >>> 16)) >>> 16;
    hi = (Math.imul(hi, P) + carry + (lo << 8)) | 0;
    lo = Math.imul(lo, P) ^ x;
  }
  state[0] = hi;
  state[1] = lo;
}

/** Continues the hash over the UTF-8 bytes of a lower-cased name (non-ASCII names only). */
function utf8Hash(qname: string): number {
  let hi = state[0]!;
  let lo = state[1]!;
  for (const x of Buffer.from(goToLower(qname), 'utf8')) {
    const carry = (((lo >>> 16) * P) + (((lo & 0xffff) * P) >>> 16)) >>> 16;
    hi = (Math.imul(hi, P) + carry + (lo << 8)) | 0;
    lo = Math.imul(lo, P) ^ x;
  }
  state[0] = hi;
  state[1] = lo;
  return (hi & 0x1fffff) * TWO32 + (lo >>> 0);
}

/**
 * CoreDNS's `hash(strings.ToLower(qname), qtype, qclass, do, cd)`: the name is
 * lower-cased on the fly. Returns the low 53 bits of the 64-bit hash.
 */
export function cacheKey(qname: string, qtype: number, qclass: number, dnssecOk: boolean, cd: boolean): number {
  headHash(dnssecOk, cd, qtype, qclass);
  let hi = state[0]!;
  let lo = state[1]!;
  const n = qname.length;
  for (let i = 0; i < n; i++) {
    let x = qname.charCodeAt(i);
    // names off the wire are escaped ASCII; anything else: Unicode lower-casing and UTF-8, as Go
    if (x > 0x7f) return utf8Hash(qname);
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    const carry = (((lo >>> 16) * P) + (((lo & 0xffff) * P) >>> 16)) >>> 16;
    hi = (Math.imul(hi, P) + carry + (lo << 8)) | 0;
    lo = Math.imul(lo, P) ^ x;
  }
  state[0] = hi;
  state[1] = lo;
  return (hi & 0x1fffff) * TWO32 + (lo >>> 0);
}

/** The full 64-bit hash as a bigint (for tests against Go's values). */
export function cacheKey64(qname: string, qtype: number, qclass: number, dnssecOk: boolean, cd: boolean): bigint {
  cacheKey(qname, qtype, qclass, dnssecOk, cd);
  return (BigInt(state[0]! >>> 0) << 32n) | BigInt(state[1]! >>> 0);
}
