/**
 * Relaying a reply that arrived as wire bytes (a forwarder's upstream reply)
 * without decoding and re-encoding it, when that gives exactly the bytes the
 * message path gives: `w.writeMsg(decodeMessage(bytes))`, which the server's
 * scrub fits to the client (OPT echo, truncation, compression) and encodes.
 *
 * - `scanReply(bytes)` walks the reply once, accepting only what
 *   `decodeMessage` accepts (and a subset of it: anything unusual is
 *   refused), and measures the reply as the encoder would write it
 *   uncompressed: compression pointers expanded in the names the codec
 *   decodes (owner names, and the RDATA names of NS, MD, MF, CNAME, MB, MG,
 *   MR, PTR, DNAME, MX, AFSDB, RT, KX, SOA, MINFO, SRV), every other RDATA as
 *   it is. Undefined: decode the reply instead.
 * - `sameQuestion(reply, query)` is request.Match's question check on bytes.
 * - `relayWire(reply, id, state)` gives the bytes the scrub of `state` would
 *   send for the decoded reply with ID `id`, or undefined when the scrub would
 *   truncate or compress it (the caller then writes the message).
 */
import { getOpt } from './msg.js';
import type { Request } from './request.js';
import { decodeMessage, type Msg } from './wire/message.js';
import { DNSSEC_OK } from './wire/constants.js';
import { optWireLength, requestOptEcho, sentUnchanged, writeOptRecord } from './wirepatch.js';

const MAX_POINTERS = 126; // miekg: (255 + 1) / 2 - 2

/** A reply checked by `scanReply`; `wire` is kept as it arrived. */
export class WireReply {
  /** The reply as received (its own ID). */
  readonly wire: Uint8Array;
  /** Offset after the last record (trailing bytes are not part of the message). */
  readonly end: number;
  /** Offset after the question. */
  readonly qEnd: number;
  readonly answers: number;
  readonly authorities: number;
  readonly additionals: number;
  /** Offset in `wire` of the OPT record (its root owner name), or -1. */
  readonly optAt: number;
  /** Length of the decoded reply encoded without compression (`messageLen(m, false)`). */
  readonly ulen: number;
  /** Some name to expand holds a compression pointer: the bytes must be rewritten, not copied. */
  readonly pointers: boolean;
  /** Header bits with QR (16 bits). */
  readonly flags: number;
  /** Full rcode: header nibble and the OPT's extended bits (`rcodeOf`). */
  readonly rcode: number;
  /** The ID to reply with (the client's), set by whoever received it. */
  id = 0;

  constructor(wire: Uint8Array, end: number, qEnd: number, an: number, ns: number, ar: number, optAt: number, ulen: number, pointers: boolean) {
    this.wire = wire;
    this.end = end;
    this.qEnd = qEnd;
    this.answers = an;
    this.authorities = ns;
    this.additionals = ar;
    this.optAt = optAt;
    this.ulen = ulen;
    this.pointers = pointers;
    this.flags = (wire[2]! << 8) | wire[3]!;
    this.rcode = (wire[3]! & 0xf) | (optAt >= 0 ? wire[optAt + 5]! << 4 : 0);
    this.id = (wire[0]! << 8) | wire[1]!;
  }

  /** The decoded reply with ID `id` (what the message path writes). */
  toMsg(): Msg {
    const m = decodeMessage(this.wire);
    m.id = this.id;
    return m;
  }
}

// results of scanName (no allocation per name)
let nameEnd = 0;
let sawPointer = false;

/**
 * Checks the name at `off` as unpackName reads it (reads stop at `limit`) and
 * returns its uncompressed wire length, or -1 where unpackName throws. Sets
 * `nameEnd` to the offset after the name (after its first pointer).
 */
function scanName(b: Uint8Array, off: number, limit: number): number {
  let budget = 255;
  let ptrs = 0;
  let end = 0;
  let len = 1;
  for (;;) {
    if (off >= limit) return -1;
    const c = b[off++]!;
    if (c < 0x40) {
      if (c === 0) break;
      if (off + c > limit) return -1;
      budget -= c + 1;
      if (budget <= 0) return -1;
      len += c + 1;
      off += c;
    } else if (c >= 0xc0) {
      if (off >= limit) return -1;
      const c1 = b[off++]!;
      if (ptrs === 0) end = off;
      if (++ptrs > MAX_POINTERS) return -1;
      off = ((c & 0x3f) << 8) | c1;
    } else {
      return -1;
    }
  }
  if (ptrs === 0) {
    nameEnd = off;
  } else {
    nameEnd = end;
    sawPointer = true;
  }
  return len;
}

/** A name in RDATA that must end the RDATA exactly; its uncompressed length or -1. */
function lastName(b: Uint8Array, off: number, end: number): number {
  const l = scanName(b, off, end);
  return l < 0 || nameEnd !== end ? -1 : l;
}

/** EDNS0 options as decodeOptions validates them; false where it throws. */
function validOptions(b: Uint8Array, off: number, end: number): boolean {
  while (off < end) {
    if (off + 4 > end) return false;
    const code = (b[off]! << 8) | b[off + 1]!;
    const n = (b[off + 2]! << 8) | b[off + 3]!;
    off += 4;
    if (off + n > end) return false;
    switch (code) {
      case 8: { // SUBNET
        if (n < 4) return false;
        const family = (b[off]! << 8) | b[off + 1]!;
        const src = b[off + 2]!;
        const scope = b[off + 3]!;
        if (family === 0) {
          if (src !== 0) return false;
        } else if (family === 1) {
          if (src > 32 || scope > 32) return false;
        } else if (family === 2) {
          if (src > 128 || scope > 128) return false;
        } else {
          return false;
        }
        break;
      }
      case 2: // UL
        if (n !== 4 && n !== 8) return false;
        break;
      case 1: // LLQ
        if (n < 18) return false;
        break;
      case 9: // EXPIRE
        if (n !== 0 && n < 4) return false;
        break;
      case 11: // TCP_KEEPALIVE
        if (n !== 0 && n !== 2) return false;
        break;
      case 15: // EDE
      case 19: // ZONEVERSION
        if (n < 2) return false;
        break;
      case 18: // REPORTING: a name, read from a copy of the option data
        if (scanName(b.slice(off, off + n), 0, n) < 0) return false;
        break;
      default:
        break;
    }
    off += n;
  }
  return true;
}

/**
 * Checks RDATA of type `t` in [rd, end) (end > rd) as decodeRdata does and
 * returns its uncompressed length, or -1 where decoding throws.
 */
function rdataLen(b: Uint8Array, t: number, rd: number, end: number): number {
  switch (t) {
    case 1: // A
      return end - rd === 4 ? 4 : -1;
    case 28: // AAAA
      return end - rd === 16 ? 16 : -1;
    case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12: case 39: // NS MD MF CNAME MB MG MR PTR DNAME
      return lastName(b, rd, end);
    case 15: case 18: case 21: case 36: { // MX AFSDB RT KX
      if (rd + 2 > end) return -1;
      const l = lastName(b, rd + 2, end);
      return l < 0 ? -1 : l + 2;
    }
    case 6: { // SOA
      const l1 = scanName(b, rd, end);
      if (l1 < 0) return -1;
      const l2 = scanName(b, nameEnd, end);
      if (l2 < 0 || nameEnd + 20 !== end) return -1;
      return l1 + l2 + 20;
    }
    case 33: { // SRV
      if (rd + 6 > end) return -1;
      const l = lastName(b, rd + 6, end);
      return l < 0 ? -1 : l + 6;
    }
    case 14: { // MINFO
      const l1 = scanName(b, rd, end);
      if (l1 < 0) return -1;
      const l2 = lastName(b, nameEnd, end);
      return l2 < 0 ? -1 : l1 + l2;
    }
    case 16: case 99: { // TXT SPF
      let o = rd;
      while (o < end) o += 1 + b[o]!;
      return o === end ? end - rd : -1;
    }
    case 13: { // HINFO
      let o = rd;
      o += 1 + b[o]!;
      if (o >= end) return -1;
      o += 1 + b[o]!;
      return o === end ? end - rd : -1;
    }
    case 257: // CAA
      if (rd + 2 > end || rd + 2 + b[rd + 1]! > end) return -1;
      return end - rd;
    case 41: // OPT
      return validOptions(b, rd, end) ? end - rd : -1;
    default:
      return end - rd;
  }
}

/**
 * Checks a reply for relaying: a response with one question and every
 * record the header counts, that `decodeMessage` decodes, with at most one
 * OPT record (in the additional section, owned by the root). Undefined for
 * anything else (decode it then).
 */
export function scanReply(b: Uint8Array): WireReply | undefined {
  const n = b.length;
  if (n < 12 || (b[2]! & 0x80) === 0 || b[4] !== 0 || b[5] !== 1) return undefined;
  sawPointer = false;
  let l = scanName(b, 12, n);
  if (l < 0) return undefined;
  let off = nameEnd + 4;
  if (off > n) return undefined;
  const qEnd = off;
  let ulen = 12 + l + 4;
  const an = (b[6]! << 8) | b[7]!;
  const ns = (b[8]! << 8) | b[9]!;
  const ar = (b[10]! << 8) | b[11]!;
  const firstAdditional = an + ns;
  const total = firstAdditional + ar;
  let optAt = -1;
  for (let i = 0; i < total; i++) {
    if (off >= n) return undefined; // fewer records than counted: the codec would rewrite the counts
    const start = off;
    l = scanName(b, off, n);
    if (l < 0) return undefined;
    off = nameEnd;
    if (off + 10 > n) return undefined;
    const t = (b[off]! << 8) | b[off + 1]!;
    const rd = off + 10;
    const end = rd + ((b[off + 8]! << 8) | b[off + 9]!);
    if (end > n) return undefined;
    ulen += l + 10;
    if (end > rd) {
      const rl = rdataLen(b, t, rd, end);
      if (rl < 0) return undefined;
      ulen += rl;
    }
    if (t === 41) {
      if (i < firstAdditional || optAt >= 0 || b[start] !== 0) return undefined;
      optAt = start;
    }
    off = end;
  }
  return new WireReply(b, off, qEnd, an, ns, ar, optAt, ulen, sawPointer);
}

/**
 * request.Match's question check: the reply's question has the query's name
 * (ASCII case ignored), type and class. `query` is a message whose question
 * starts at offset 12, uncompressed. Only equivalent to comparing decoded
 * names when the query name's presentation form is the canonical one (see
 * `plainCanonicalName`).
 */
export function sameQuestion(r: WireReply, query: Uint8Array): boolean {
  const a = r.wire;
  let i = 12;
  let j = 12;
  for (;;) {
    let c = a[i]!;
    while (c >= 0xc0) {
      i = ((c & 0x3f) << 8) | a[i + 1]!;
      c = a[i]!;
    }
    if (c !== query[j]) return false;
    if (c === 0) break;
    for (let k = 1; k <= c; k++) {
      const x = a[i + k]!;
      const y = query[j + k]!;
      if (x !== y) {
        const lx = x | 0x20;
        if (lx !== (y | 0x20) || lx < 0x61 || lx > 0x7a) return false;
      }
    }
    i += c + 1;
    j += c + 1;
  }
  const q = r.qEnd - 4;
  j++;
  return a[q] === query[j] && a[q + 1] === query[j + 1] && a[q + 2] === query[j + 2] && a[q + 3] === query[j + 3];
}

/**
 * True for a fully qualified name made only of printable ASCII characters
 * that the name decoder never escapes: its wire form decodes back to exactly
 * this string, so comparing wire names is comparing presentation names.
 */
export function plainCanonicalName(name: string): boolean {
  const n = name.length;
  if (n === 1) return name === '.';
  if (n < 2 || name.charCodeAt(n - 1) !== 0x2e) return false;
  let start = 0;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      if (i === start || i - start > 63) return false;
      start = i + 1;
    } else if (c < 0x21 || c > 0x7e || c === 0x22 || c === 0x27 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x5c) {
      return false;
    }
  }
  return n <= 254;
}

/** Copies the name at `off` of `src` uncompressed to `dst` at `o`; returns the offset after it in `dst`. */
function copyName(src: Uint8Array, off: number, dst: Uint8Array, o: number): number {
  for (;;) {
    const c = src[off]!;
    if (c >= 0xc0) {
      off = ((c & 0x3f) << 8) | src[off + 1]!;
      continue;
    }
    dst[o++] = c;
    if (c === 0) return o;
    for (let k = 1; k <= c; k++) dst[o++] = src[off + k]!;
    off += c + 1;
  }
}

/** Offset after the (already scanned) name at `off`. */
function skipName(src: Uint8Array, off: number): number {
  for (;;) {
    const c = src[off]!;
    if (c >= 0xc0) return off + 2;
    if (c === 0) return off + 1;
    off += c + 1;
  }
}

/**
 * Writes the reply's body (question and records, from offset 12) with every
 * name the codec decodes expanded; returns the offset of the OPT record in
 * `dst` (-1 without one).
 */
function expandBody(r: WireReply, dst: Uint8Array): number {
  const src = r.wire;
  let off = 12;
  let o = copyName(src, off, dst, 12);
  off = skipName(src, off);
  for (let k = 0; k < 4; k++) dst[o++] = src[off++]!;
  const total = r.answers + r.authorities + r.additionals;
  let optOut = -1;
  for (let i = 0; i < total; i++) {
    if (off === r.optAt) optOut = o;
    o = copyName(src, off, dst, o);
    off = skipName(src, off);
    const t = (src[off]! << 8) | src[off + 1]!;
    const rdlen = (src[off + 8]! << 8) | src[off + 9]!;
    for (let k = 0; k < 8; k++) dst[o++] = src[off + k]!;
    const lenAt = o;
    o += 2;
    const rd = off + 10;
    const end = rd + rdlen;
    off = end;
    if (rdlen === 0) {
      dst[lenAt] = 0;
      dst[lenAt + 1] = 0;
      continue;
    }
    const start = o;
    let p = rd;
    switch (t) {
      case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12: case 39:
        o = copyName(src, p, dst, o);
        break;
      case 15: case 18: case 21: case 36:
        dst[o++] = src[p]!;
        dst[o++] = src[p + 1]!;
        o = copyName(src, p + 2, dst, o);
        break;
      case 6:
        o = copyName(src, p, dst, o);
        p = skipName(src, p);
        o = copyName(src, p, dst, o);
        p = skipName(src, p);
        for (let k = 0; k < 20; k++) dst[o++] = src[p + k]!;
        break;
      case 33:
        for (let k = 0; k < 6; k++) dst[o++] = src[p + k]!;
        o = copyName(src, p + 6, dst, o);
        break;
      case 14:
        o = copyName(src, p, dst, o);
        o = copyName(src, skipName(src, p), dst, o);
        break;
      default:
        dst.set(src.subarray(rd, end), o);
        o += rdlen;
    }
    const l = o - start;
    dst[lenAt] = l >>> 8;
    dst[lenAt + 1] = l & 0xff;
  }
  return optOut;
}

/** Result of `relayWire`. */
export interface RelayedReply {
  /** What to send. */
  readonly bytes: Uint8Array;
  /** The reply's length before the scrub's OPT echo (what recorders count for `writeMsg`). */
  readonly len: number;
}

/**
 * The bytes the server's scrub (`state`: see `scrubRequest`) sends for the
 * decoded reply with ID `r.id` written with `writeMsg`: the reply
 * uncompressed, its OPT normalised (CoreDNS's SizeAndDo) or the client's OPT
 * echoed. Undefined when the scrub would truncate or compress it, or when a
 * recorder would see it differently as bytes (extended rcode): write the
 * message then. Like the scrub, it normalises the request's OPT in place
 * when it is the one echoed.
 */
export function relayWire(r: WireReply, state: Request): RelayedReply | undefined {
  if (r.rcode > 0xf) return undefined;
  const clientOpt = getOpt(state.req);
  let echo: ReturnType<typeof requestOptEcho>;
  let extra = 0;
  if (clientOpt !== undefined && r.optAt < 0) {
    echo = requestOptEcho(state);
    if (echo !== undefined) extra = optWireLength(echo);
  }
  const total = r.ulen + extra;
  if (!sentUnchanged(state, total)) return undefined;
  const src = r.wire;
  const b = Buffer.allocUnsafe(total);
  const id = r.id;
  b[0] = id >>> 8;
  b[1] = id & 0xff;
  b[2] = src[2]!;
  b[3] = src[3]!;
  b[4] = 0;
  b[5] = 1;
  b[6] = src[6]!;
  b[7] = src[7]!;
  b[8] = src[8]!;
  b[9] = src[9]!;
  const ar = r.additionals + (echo !== undefined ? 1 : 0);
  b[10] = ar >>> 8;
  b[11] = ar & 0xff;
  let optOut: number;
  if (r.pointers) {
    optOut = expandBody(r, b);
  } else {
    b.set(src.subarray(12, r.end), 12);
    optOut = r.optAt;
  }
  if (clientOpt !== undefined) {
    if (optOut >= 0) {
      // SizeAndDo on the reply's own OPT: the client's size, version 0, low flag bits cleared, DO as the client's
      const size = clientOpt.udpPayloadSize & 0xffff;
      b[optOut + 3] = size >>> 8;
      b[optOut + 4] = size & 0xff;
      b[optOut + 6] = 0;
      if (clientOpt.flags & DNSSEC_OK) b[optOut + 7] = b[optOut + 7]! | 0x80;
      b[optOut + 8] = 0;
    } else if (echo !== undefined) {
      writeOptRecord(b, r.ulen, echo);
    }
  }
  return { bytes: b, len: r.ulen };
}
