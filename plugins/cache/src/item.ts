/**
 * A cached response (CoreDNS's `item`): the records with their TTL set to the
 * cache duration, the header bits a hit needs, the hit frequency for
 * prefetch, the refresh state, and — built on the first hit — the records as
 * wire bytes with the offsets of their TTLs, so a hit is a copy and a patch.
 */
import {
  AUTHENTIC_DATA,
  AUTHORITATIVE_ANSWER,
  CHECKING_DISABLED,
  RECURSION_AVAILABLE,
  RECURSION_DESIRED,
  classCode,
  lowerName,
  newReply,
  optWireLength,
  packRecords,
  plainNameLength,
  requestOptEcho,
  sentUnchanged,
  setRcode,
  typeCode,
  writeOptRecord,
  writePlainName,
  type Msg,
  type PackedRecords,
  type Request,
  type RR,
} from '@tsdns/core';
import { answersQuestion } from './classify.js';
import type { Slotted } from './shards.js';

/** A copy of each record with its TTL set to `ttl` (CoreDNS's filterRRSlice with dup). */
export function withTTL(rrs: readonly RR[], ttl: number): RR[] {
  const out = new Array<RR>(rrs.length);
  for (let i = 0; i < rrs.length; i++) out[i] = { ...rrs[i]!, ttl };
  return out;
}

export class Item implements Slotted {
  /** Position in its shard (managed by ShardedCache). */
  slot = 0;
  /** Question of the response, as it was (case kept). */
  readonly name: string;
  /** `name` lower-cased. */
  readonly lname: string;
  readonly qtype: number;
  readonly qclass: number;
  readonly rcode: number;
  readonly authenticatedData: boolean;
  readonly recursionAvailable: boolean;
  /** Records with TTL = origTTL; OPT records are never stored. */
  readonly answers: readonly RR[];
  readonly authorities: readonly RR[];
  readonly additionals: readonly RR[];
  /** Source name of a wildcard answer (`zone/wildcard` metadata), '' if none. */
  wildcard = '';
  /** The response answers its question (immutable). */
  readonly answering: boolean;
  /** Under prefer_positive: the answering item a non-answering refresh replaced. */
  lastKnownGood: Item | undefined = undefined;
  /** Cache duration in whole seconds. */
  readonly origTTL: number;
  /** When it was stored (ms, the cache's clock). */
  readonly stored: number;

  // freq.Freq: hits with no gap of the prefetch duration or more
  private last = -Infinity;
  private hitCount = 0;

  /** A refresh (prefetch, stale refresh, verify) is in flight. */
  refreshing = false;
  /** After a failed refresh with a failure recheck: no new attempt before this time (ms). */
  retryAfter: number | undefined = undefined;

  /** Wire form: undefined = not built yet, null = cannot be answered from bytes. */
  private packed: Packed | null | undefined = undefined;

  /**
   * `m` is the response as the cache stores it (OPT records removed, TTLs
   * already set to the duration); its records are copied. `rcode` is its full
   * rcode; `durationSeconds` may have a fraction (a servfail duration).
   */
  constructor(m: Msg, rcode: number, now: number, durationSeconds: number) {
    const q = m.questions[0];
    this.name = q?.name ?? '';
    this.lname = lowerName(this.name);
    this.qtype = q ? (typeCode(q.type) ?? 0) : 0;
    this.qclass = q ? (classCode(q.class) ?? 0) : 0;
    this.rcode = rcode;
    this.authenticatedData = (m.flags & AUTHENTIC_DATA) !== 0;
    this.recursionAvailable = (m.flags & RECURSION_AVAILABLE) !== 0;
    this.origTTL = Math.trunc(durationSeconds) >>> 0;
    this.answers = withTTL(m.answers as RR[], this.origTTL);
    this.authorities = withTTL(m.authorities as RR[], this.origTTL);
    this.additionals = withTTL(m.additionals as RR[], this.origTTL);
    this.answering = answersQuestion(m);
    this.stored = now;
  }

  /** Remaining TTL in seconds (negative once expired), CoreDNS's `ttl(now)`. */
  ttl(now: number): number {
    return this.origTTL - Math.trunc((now - this.stored) / 1000);
  }

  /** Same question: type, class and name (case-insensitively; `qname` as the client sent it). */
  matches(qname: string, qtype: number, qclass: number): boolean {
    return qtype === this.qtype && qclass === this.qclass && (qname === this.lname || qname === this.name || lowerName(qname) === this.lname);
  }

  /** This item, or the last-known-good one, if it answers the question. */
  answeringItem(qname: string, qtype: number, qclass: number): Item | undefined {
    if (this.answering && this.matches(qname, qtype, qclass)) return this;
    const g = this.lastKnownGood;
    if (g !== undefined && g.answering && g.matches(qname, qtype, qclass)) return g;
    return undefined;
  }

  /** freq.Update: counts a hit; the count restarts at 1 after a gap of `windowMs` or more. */
  update(windowMs: number, now: number): number {
    if (this.last < now - windowMs) {
      this.last = now;
      this.hitCount = 1;
      return 1;
    }
    this.last = now;
    return ++this.hitCount;
  }

  hits(): number {
    return this.hitCount;
  }

  /** freq.Reset. */
  reset(t: number, hits: number): void {
    this.last = t;
    this.hitCount = hits;
  }

  /** Starts a refresh unless one is in flight or a failure recheck period is active. */
  beginRefresh(now: number, failureRecheckMs: number): boolean {
    if (failureRecheckMs > 0 && this.retryAfter !== undefined && now < this.retryAfter) return false;
    if (this.refreshing) return false;
    this.refreshing = true;
    return true;
  }

  endRefresh(now: number, failureRecheckMs: number, refreshed: boolean): void {
    this.retryAfter = failureRecheckMs > 0 && !refreshed ? now + failureRecheckMs : undefined;
    this.refreshing = false;
  }

  /** Header flags of a reply built from this item (CoreDNS's toMsg), QR included. */
  private replyFlags(r: Msg, dnssecOk: boolean, ad: boolean): number {
    const opcode = (r.flags >> 11) & 0xf;
    let flags = 0x8000 | (opcode << 11) | AUTHORITATIVE_ANSWER | (this.rcode & 0xf);
    if (opcode === 0) flags |= r.flags & (RECURSION_DESIRED | CHECKING_DISABLED);
    if (this.authenticatedData && (dnssecOk || ad)) flags |= AUTHENTIC_DATA;
    if (this.recursionAvailable) flags |= RECURSION_AVAILABLE;
    return flags;
  }

  /**
   * CoreDNS's toMsgWithTTL: a reply to `r` — AA set, AD only when the client
   * asked for DNSSEC (DO) or set AD, RA and rcode stored — with every
   * record's TTL set to `ttl`.
   */
  toMsg(r: Msg, ttl: number, dnssecOk: boolean, ad: boolean): Msg {
    const m = newReply(r);
    m.flags = this.replyFlags(r, dnssecOk, ad) & 0x7fff;
    setRcode(m, this.rcode);
    m.answers = withTTL(this.answers, ttl);
    m.authorities = withTTL(this.authorities, ttl);
    m.additionals = withTTL(this.additionals, ttl);
    return m;
  }

  /** The wire form (built once), or undefined when the records cannot be packed. */
  private pack(): Packed | undefined {
    if (this.packed === undefined) this.packed = packItem(this) ?? null;
    return this.packed ?? undefined;
  }

  /**
   * The bytes the server would send for `toMsg(r, ttl, …)` written through
   * its scrub (`state` is the scrub's request): the stored records copied
   * with their TTLs patched, the client's question, and the OPT echo.
   * Undefined when that cannot be guaranteed (the scrub would truncate or
   * compress, the question name needs the general encoder, the records
   * cannot be packed): the caller then writes the message.
   */
  wire(state: Request, r: Msg, ttl: number, dnssecOk: boolean, ad: boolean): { bytes: Buffer; len: number } | undefined {
    const q = r.questions[0];
    if (q === undefined) return undefined;
    const p = this.pack();
    if (p === undefined) return undefined;
    // the client's question: the stored one when the case is the same, else written afresh
    const same = p.qlen > 0 && q.name === this.name;
    let qlen = p.qlen;
    if (!same) {
      qlen = plainNameLength(q.name);
      if (qlen < 0) return undefined;
      qlen += 4;
    }
    const opt = requestOptEcho(state);
    const rec = p.records;
    const recLen = p.body.length - p.qlen;
    const total = 12 + qlen + recLen + (opt === undefined ? 0 : optWireLength(opt));
    if (!sentUnchanged(state, total)) return undefined;

    const b = Buffer.allocUnsafe(total);
    const flags = this.replyFlags(r, dnssecOk, ad);
    const ar = rec.additionals + (opt === undefined ? 0 : 1);
    b[0] = r.id >>> 8;
    b[1] = r.id & 0xff;
    b[2] = flags >>> 8;
    b[3] = flags & 0xff;
    b[4] = 0;
    b[5] = 1;
    b[6] = rec.answers >>> 8;
    b[7] = rec.answers & 0xff;
    b[8] = rec.authorities >>> 8;
    b[9] = rec.authorities & 0xff;
    b[10] = ar >>> 8;
    b[11] = ar & 0xff;
    let off: number;
    if (same) {
      b.set(p.body, 12);
      off = 12 + qlen;
    } else {
      off = writePlainName(b, 12, q.name);
      b[off] = this.qtype >>> 8;
      b[off + 1] = this.qtype & 0xff;
      b[off + 2] = this.qclass >>> 8;
      b[off + 3] = this.qclass & 0xff;
      off += 4;
      b.set(rec.bytes, off);
    }
    const t = ttl >>> 0;
    const t0 = t >>> 24;
    const t1 = (t >>> 16) & 0xff;
    const t2 = (t >>> 8) & 0xff;
    const t3 = t & 0xff;
    const offs = rec.ttlOffsets;
    for (let i = 0; i < offs.length; i++) {
      const o = off + offs[i]!;
      b[o] = t0;
      b[o + 1] = t1;
      b[o + 2] = t2;
      b[o + 3] = t3;
    }
    if (opt !== undefined) writeOptRecord(b, off + recLen, opt);
    // `len`: the reply as the cache's message would measure, before the scrub's OPT echo
    return { bytes: b, len: opt === undefined ? total : total - optWireLength(opt) };
  }
}

/** An item's wire form: its question and records in one buffer, and the records alone with their TTL offsets. */
interface Packed {
  /** The stored question (uncompressed) followed by the records; the question part is empty when its name is not plain. */
  readonly body: Uint8Array;
  /** Length of the question part of `body` (0: none). */
  readonly qlen: number;
  readonly records: PackedRecords;
}

function packItem(i: Item): Packed | undefined {
  if (i.rcode > 0xf) return undefined; // the upper rcode bits would need an OPT of their own
  const rec = packRecords(i.answers, i.authorities, i.additionals);
  if (rec === undefined) return undefined;
  const nlen = plainNameLength(i.name);
  if (nlen < 0) return { body: rec.bytes, qlen: 0, records: rec };
  const qlen = nlen + 4;
  const body = new Uint8Array(qlen + rec.bytes.length);
  let off = writePlainName(body, 0, i.name);
  body[off++] = i.qtype >>> 8;
  body[off++] = i.qtype & 0xff;
  body[off++] = i.qclass >>> 8;
  body[off++] = i.qclass & 0xff;
  body.set(rec.bytes, off);
  // the records are kept once, inside body
  return { body, qlen, records: { ...rec, bytes: body.subarray(qlen) } };
}
