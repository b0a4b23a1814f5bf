/**
 * Response classification as CoreDNS's `plugin/pkg/response` (Typify and
 * Classify), for a reply given as a message or as wire bytes.
 */
import { DNSSEC_OK, typeCode } from './wire/constants.js';
import { isOpt, type DnsRecord, type Msg } from './wire/message.js';
import { getOpt, opcodeOf, rcodeOf } from './msg.js';

/** The type of a response (CoreDNS's `response.Type`). */
export const ResponseType = {
  NoError: 0,
  NameError: 1,
  ServerError: 2,
  NoData: 3,
  Delegation: 4,
  Meta: 5,
  Update: 6,
  OtherError: 7,
} as const;
export type ResponseType = (typeof ResponseType)[keyof typeof ResponseType];

const TYPE_NAMES = ['NOERROR', 'NXDOMAIN', 'SERVERERROR', 'NODATA', 'DELEGATION', 'META', 'UPDATE', 'OTHERERROR'] as const;

/** `NOERROR`, `NXDOMAIN`, `SERVERERROR`, `NODATA`, `DELEGATION`, `META`, `UPDATE`, `OTHERERROR`. */
export function responseTypeName(t: ResponseType): string {
  return TYPE_NAMES[t];
}

/** The class of a response (CoreDNS's `response.Class`). */
export const ResponseClass = {
  All: 0,
  Success: 1,
  Denial: 2,
  Error: 3,
} as const;
export type ResponseClass = (typeof ResponseClass)[keyof typeof ResponseClass];

const CLASS_NAMES = ['all', 'success', 'denial', 'error'] as const;

export function responseClassName(c: ResponseClass): string {
  return CLASS_NAMES[c];
}

/** `all`, `success`, `denial`, `error`; undefined for anything else (CoreDNS: `invalid Class: X`). */
export function responseClassFromString(s: string): ResponseClass | undefined {
  switch (s) {
    case 'all':
      return ResponseClass.All;
    case 'success':
      return ResponseClass.Success;
    case 'denial':
      return ResponseClass.Denial;
    case 'error':
      return ResponseClass.Error;
    default:
      return undefined;
  }
}

/** CoreDNS's `response.Classify`: NOERROR and delegations succeed, NXDOMAIN and NODATA deny, the rest are errors. */
export function classify(t: ResponseType): ResponseClass {
  switch (t) {
    case ResponseType.NoError:
    case ResponseType.Delegation:
      return ResponseClass.Success;
    case ResponseType.NameError:
    case ResponseType.NoData:
      return ResponseClass.Denial;
    default:
      return ResponseClass.Error;
  }
}

const OPCODE_NOTIFY = 4;
const OPCODE_UPDATE = 5;
const TYPE_SOA = 6;
const TYPE_NS = 2;
const TYPE_OPT = 41;
const TYPE_RRSIG = 46;
const TYPE_IXFR = 251;
const TYPE_AXFR = 252;
const YEAR68 = 2 ** 31;

/** What Typify looks at in a response. */
export interface ResponseFacts {
  opcode: number;
  /** Full rcode (header bits plus the OPT's extended bits). */
  rcode: number;
  /** Type of the first question, undefined without a question. */
  qtype: number | undefined;
  answers: number;
  /** An SOA record in the authority section. */
  soa: boolean;
  /** Number of NS records in the authority section. */
  ns: number;
  /** DO bit of the response's OPT record. */
  do: boolean;
  /** [inception, expiration] of every RRSIG in the answer, authority and additional sections. */
  sigs: [number, number][];
}

/** miekg's `RRSIG.ValidityPeriod`: serial-number arithmetic modulo 2^32 around `now` (Unix seconds). */
export function rrsigValid(inception: number, expiration: number, now: number): boolean {
  const modi = Math.trunc((inception - now) / YEAR68);
  const mode = Math.trunc((expiration - now) / YEAR68);
  const ti = inception + modi * YEAR68;
  const te = expiration + mode * YEAR68;
  return ti <= now && now <= te;
}

/** CoreDNS's `response.Typify` on the facts of a response; undefined facts (no response) is OTHERERROR. */
export function typifyFacts(f: ResponseFacts | undefined, nowSeconds: number): ResponseType {
  if (f === undefined) return ResponseType.OtherError;
  if (f.opcode === OPCODE_UPDATE) return ResponseType.Update;
  if (f.opcode === OPCODE_NOTIFY) return ResponseType.Meta;
  if (f.qtype === TYPE_AXFR || f.qtype === TYPE_IXFR) return ResponseType.Meta;
  if (f.do) {
    for (const [inc, exp] of f.sigs) if (!rrsigValid(inc, exp, nowSeconds)) return ResponseType.OtherError;
  }
  if (f.answers > 0 && f.rcode === 0) return ResponseType.NoError;
  if (f.answers > 0 && f.rcode === 3) return ResponseType.OtherError;
  if (f.soa && f.rcode === 0) return ResponseType.NoData;
  if (f.rcode === 3) return ResponseType.NameError;
  if (f.rcode === 2 || f.rcode === 4) return ResponseType.ServerError;
  if (f.ns > 0 && f.rcode === 0) return ResponseType.Delegation;
  if (f.rcode === 0) return ResponseType.NoError;
  return ResponseType.OtherError;
}

function u32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) >>> 0) + (b[off + 1]! << 16) + (b[off + 2]! << 8) + b[off + 3]!;
}

function sigTimes(r: DnsRecord): [number, number] | undefined {
  if (isOpt(r) || r.type !== 'RRSIG') return undefined;
  const d = r.data;
  if (d instanceof Uint8Array) {
    if (d.length < 16) return undefined;
    return [u32(d, 12), u32(d, 8)];
  }
  if (typeof d === 'object' && d !== null && !Array.isArray(d)) {
    const o = d as { readonly [key: string]: unknown };
    const inc = o['inception'];
    const exp = o['expiration'];
    if (typeof inc === 'number' && typeof exp === 'number') return [inc >>> 0, exp >>> 0];
  }
  return undefined;
}

/** The facts Typify needs, read from a message. */
export function factsOfMsg(m: Msg, rcode: number = rcodeOf(m)): ResponseFacts {
  const opt = getOpt(m);
  const q = m.questions[0];
  let soa = false;
  let ns = 0;
  for (const r of m.authorities) {
    if (r.type === 'SOA') soa = true;
    else if (r.type === 'NS') ns++;
  }
  const doBit = opt !== undefined && (opt.flags & DNSSEC_OK) !== 0;
  const sigs: [number, number][] = [];
  if (doBit) {
    for (const sec of [m.answers, m.authorities, m.additionals]) {
      for (const r of sec) {
        const t = sigTimes(r);
        if (t) sigs.push(t);
      }
    }
  }
  return {
    opcode: opcodeOf(m),
    rcode,
    qtype: q ? typeCode(q.type) : undefined,
    answers: m.answers.length,
    soa,
    ns,
    do: doBit,
    sigs,
  };
}

/** Header of a wire-format reply plus the facts Typify needs. */
export interface WireSummary {
  /** The 16-bit header flags word, QR included. */
  flags: number;
  /** Full rcode (header plus OPT extended rcode when the OPT could be read). */
  rcode: number;
  /** Undefined when the sections after the header could not be read. */
  facts: ResponseFacts | undefined;
}

/** Offset just past the (possibly compressed) name at `off`. */
function skipName(b: Uint8Array, off: number): number {
  for (;;) {
    if (off >= b.length) throw new RangeError('name overflows message');
    const c = b[off]!;
    if (c === 0) return off + 1;
    const kind = c & 0xc0;
    if (kind === 0xc0) return off + 2;
    if (kind !== 0) throw new RangeError('bad label');
    off += c + 1;
  }
}

/**
 * Reads a reply given as wire bytes: header flags and rcode always (when the
 * header is complete), and the Typify facts when the sections can be walked.
 * Undefined when the bytes are shorter than a header.
 */
export function summarizeWire(b: Uint8Array): WireSummary | undefined {
  if (b.length < 12) return undefined;
  const flags = (b[2]! << 8) | b[3]!;
  const headerRcode = flags & 0xf;
  const qd = (b[4]! << 8) | b[5]!;
  const an = (b[6]! << 8) | b[7]!;
  const nsCount = (b[8]! << 8) | b[9]!;
  const ar = (b[10]! << 8) | b[11]!;
  try {
    let off = 12;
    let qtype: number | undefined;
    for (let i = 0; i < qd; i++) {
      off = skipName(b, off);
      if (off + 4 > b.length) throw new RangeError('short question');
      if (i === 0) qtype = (b[off]! << 8) | b[off + 1]!;
      off += 4;
    }
    let soa = false;
    let ns = 0;
    let extended = 0;
    let doBit = false;
    const sigs: [number, number][] = [];
    const total = an + nsCount + ar;
    for (let i = 0; i < total; i++) {
      off = skipName(b, off);
      if (off + 10 > b.length) throw new RangeError('short record');
      const type = (b[off]! << 8) | b[off + 1]!;
      const ttl = u32(b, off + 4);
      const rdlen = (b[off + 8]! << 8) | b[off + 9]!;
      const rdata = off + 10;
      off = rdata + rdlen;
      if (off > b.length) throw new RangeError('short rdata');
      if (i >= an && i < an + nsCount) {
        if (type === TYPE_SOA) soa = true;
        else if (type === TYPE_NS) ns++;
      }
      if (type === TYPE_RRSIG && rdlen >= 16) sigs.push([u32(b, rdata + 12), u32(b, rdata + 8)]);
      if (type === TYPE_OPT && i >= an + nsCount) {
        // the last OPT of the additional section wins, as miekg's IsEdns0
        extended = (ttl >>> 24) & 0xff;
        doBit = (ttl & 0x8000) !== 0;
      }
    }
    const rcode = headerRcode | (extended << 4);
    return {
      flags,
      rcode,
      facts: {
        opcode: (flags >> 11) & 0xf,
        rcode,
        qtype,
        answers: an,
        soa,
        ns,
        do: doBit,
        sigs: doBit ? sigs : [],
      },
    };
  } catch {
    return { flags, rcode: headerRcode, facts: undefined };
  }
}
