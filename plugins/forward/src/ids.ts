/**
 * Message IDs of queries sent upstream: 16 bits from the operating system's
 * cryptographic random source (as miekg/dns's `dns.Id`), so that an off-path
 * attacker cannot predict them from other IDs. Drawn in batches: one system
 * call per 2048 IDs.
 */
import { randomFillSync } from 'node:crypto';

const batch = new Uint16Array(2048);
let next = batch.length;

/** A random 16-bit ID. */
export function randomId(): number {
  if (next === batch.length) {
    randomFillSync(batch);
    next = 0;
  }
  return batch[next++]!;
}
