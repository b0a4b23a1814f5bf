/**
 * Record reordering of the round_robin policy and of `prefer` (CoreDNS's
 * loadbalance.go and prefer.go). Sections are never modified in place: a
 * plugin may hand over arrays it keeps (a cache entry, a zone).
 */
import type { DnsRecord, Msg, RR } from '@tsdns/core';
import { netContains, parseGoIP, type IPNet } from '@tsdns/core';

/** A random 16-bit number, like miekg's `dns.Id()` that CoreDNS shuffles with. */
export type Random16 = () => number;

export const random16: Random16 = () => (Math.random() * 0x10000) >>> 0;

/** CoreDNS's `roundRobinShuffle`: swaps driven by 16-bit random numbers, in place. */
export function shuffleInPlace<T>(records: T[], rnd: Random16 = random16): void {
  const l = records.length;
  if (l < 2) return;
  if (l === 2) {
    if (rnd() % 2 === 0) {
      const t = records[0]!;
      records[0] = records[1]!;
      records[1] = t;
    }
    return;
  }
  for (let j = 0; j < l; j++) {
    const p = j + (rnd() % (l - j));
    if (p === j) continue;
    const t = records[j]!;
    records[j] = records[p]!;
    records[p] = t;
  }
}

/** The records of a section by kind, each group in section order (fresh arrays). */
export interface SectionParts {
  cname: DnsRecord[];
  /** A and AAAA */
  address: DnsRecord[];
  mx: DnsRecord[];
  /** everything else (OPT included) */
  rest: DnsRecord[];
}

/** Splits a section into CNAMEs, addresses, MX and the rest, as CoreDNS's policies do before reassembling it. */
export function splitSection(records: readonly DnsRecord[]): SectionParts {
  const cname: DnsRecord[] = [];
  const address: DnsRecord[] = [];
  const mx: DnsRecord[] = [];
  const rest: DnsRecord[] = [];
  for (const r of records) {
    switch (r.type) {
      case 'CNAME':
        cname.push(r);
        break;
      case 'A':
      case 'AAAA':
        address.push(r);
        break;
      case 'MX':
        mx.push(r);
        break;
      default:
        rest.push(r);
    }
  }
  return { cname, address, mx, rest };
}

/**
 * CoreDNS's `roundRobin` of one section: a section of only A (or only AAAA)
 * records is shuffled; any other section becomes CNAMEs, then other records
 * (OPT included), then the shuffled A/AAAA records, then the shuffled MX records.
 */
export function roundRobin(records: DnsRecord[], rnd: Random16 = random16): DnsRecord[] {
  if (records.length <= 1) return records;
  const t = records[0]!.type;
  if (t === 'A' || t === 'AAAA') {
    let same = true;
    for (let i = 1; i < records.length; i++) {
      if (records[i]!.type !== t) {
        same = false;
        break;
      }
    }
    if (same) {
      const out = records.slice();
      shuffleInPlace(out, rnd);
      return out;
    }
  }
  const { cname, address, mx, rest } = splitSection(records);
  shuffleInPlace(address, rnd);
  shuffleInPlace(mx, rnd);
  return cname.concat(rest, address, mx);
}

/** CoreDNS's `randomShuffle`: Answer, Authority and Additional shuffled independently. */
export function randomShuffle(m: Msg, rnd: Random16 = random16): Msg {
  m.answers = roundRobin(m.answers, rnd);
  m.authorities = roundRobin(m.authorities, rnd);
  m.additionals = roundRobin(m.additionals, rnd);
  return m;
}

/** The address of an A or AAAA record (16-byte form), or undefined. */
export function recordIP(r: DnsRecord): Uint8Array | undefined {
  if ((r.type !== 'A' && r.type !== 'AAAA') || typeof (r as RR).data !== 'string') return undefined;
  return parseGoIP((r as RR).data as string);
}

/**
 * CoreDNS's `reorderRecords`: CNAMEs, then the A/AAAA records in the first
 * listed subnet, then the second, ..., then the other addresses (each group
 * keeping its order), then MX, then everything else.
 */
export function reorderRecords(records: DnsRecord[], subnets: readonly IPNet[]): DnsRecord[] {
  const { cname, address, mx, rest } = splitSection(records);
  const ips = address.map(recordIP);
  const seen = new Array<boolean>(address.length).fill(false);
  const sorted: DnsRecord[] = [];
  for (const n of subnets) {
    for (let i = 0; i < address.length; i++) {
      if (seen[i]) continue;
      const ip = ips[i];
      if (ip && netContains(n, ip)) {
        sorted.push(address[i]!);
        seen[i] = true;
      }
    }
  }
  for (let i = 0; i < address.length; i++) if (!seen[i]) sorted.push(address[i]!);
  return cname.concat(sorted, mx, rest);
}

/** CoreDNS's `reorderPreferredSubnets`: Answer and Additional (not Authority). */
export function reorderPreferredSubnets(m: Msg, subnets: readonly IPNet[]): Msg {
  m.answers = reorderRecords(m.answers, subnets);
  m.additionals = reorderRecords(m.additionals, subnets);
  return m;
}
