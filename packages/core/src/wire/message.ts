/**
 * DNS messages: the data model handed to plugins, and its wire codec.
 *
 * The model has dns-packet's shape (`id`, `type`, `flags`, `questions`,
 * `answers`, `authorities`, `additionals`; records `{name, type, class, ttl,
 * data}`; OPT as `{type: 'OPT', udpPayloadSize, extendedRcode, ednsVersion,
 * flags, options}`) with fully-qualified, escaped names. The codec follows
 * miekg/dns (the library CoreDNS is built on) so that what CoreDNS accepts,
 * rejects and writes is what tsdns accepts, rejects and writes — including
 * name compression, which dns-packet does not do. Record types the codec does
 * not model keep their RDATA as raw bytes on decode and are encoded with
 * dns-packet when given as objects.
 */
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import {
  classCode,
  classToString,
  EDNS,
  typeCode,
  typeToString,
} from './constants.js';
import { MAX_COMPRESSION_OFFSET, WireError, isFqdn, labelStarts, nameToLabels, unpackName } from './name.js';

export interface Question {
  name: string;
  type: string;
  class: string;
}

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}
export interface MxData {
  preference: number;
  exchange: string;
}
export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}
export interface CaaData {
  flags: number;
  tag: string;
  value: string;
  issuerCritical?: boolean;
}
export interface HinfoData {
  cpu: string;
  os: string;
}
export interface MinfoData {
  rmailbx: string;
  emailbx: string;
}

/**
 * Record data. A/AAAA: address string. NS/CNAME/PTR/DNAME/MB/MD/MF/MG/MR:
 * target name. TXT/SPF: array of character-strings. SRV, MX (also KX, RT,
 * AFSDB as MxData), SOA, CAA, HINFO, MINFO: objects. Anything else: raw RDATA
 * bytes, or (when encoding) an object in dns-packet's format for that type.
 */
export type RData =
  | string
  | Uint8Array
  | (string | Uint8Array)[]
  | SrvData
  | MxData
  | SoaData
  | CaaData
  | HinfoData
  | MinfoData
  | { readonly [key: string]: unknown };

export interface RR {
  name: string;
  type: string;
  /** Defaults to `IN` when encoding. */
  class?: string;
  /** Defaults to 0 when encoding. */
  ttl?: number;
  data: RData;
}

export interface EdnsOption {
  code: number;
  data: Uint8Array;
}

export interface OptRecord {
  name: string;
  type: 'OPT';
  udpPayloadSize: number;
  extendedRcode: number;
  ednsVersion: number;
  /** 16-bit flags: DO (0x8000) and Z. */
  flags: number;
  options: EdnsOption[];
}

export type DnsRecord = RR | OptRecord;

export interface Msg {
  id: number;
  type: 'query' | 'response';
  /**
   * Header bits without QR, as dns-packet: opcode << 11, AA, TC, RD, RA, Z, AD,
   * CD, and the low 4 bits of the rcode.
   */
  flags: number;
  questions: Question[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

export function isOpt(r: DnsRecord): r is OptRecord {
  return r.type === 'OPT';
}

/** Thrown by decodeMessage; `partial` holds the header and the questions read before the error. */
export class DecodeError extends WireError {
  readonly partial: Msg;
  constructor(message: string, partial: Msg) {
    super(message);
    this.name = 'DecodeError';
    this.partial = partial;
  }
}

// ---------------------------------------------------------------------------
// decoding

const posOut = { off: 0 };

function u16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}
function u32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) >>> 0) + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Decodes a whole message with miekg/dns's rules: a message that ends right
 * after the header has empty sections; a question cut short after its name
 * gets type/class 0; header counts larger than what is there are tolerated
 * when the message ends exactly at a record boundary; malformed records throw
 * a DecodeError carrying the header and the questions decoded so far.
 */
export function decodeMessage(input: Uint8Array): Msg {
  const buf = toBuffer(input);
  if (buf.length < 12) throw new WireError('dns: buffer size too small');
  const bits = u16(buf, 2);
  const m: Msg = {
    id: u16(buf, 0),
    type: bits & 0x8000 ? 'response' : 'query',
    flags: bits & 0x7fff,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  let off = 12;
  if (off === buf.length) return m;
  const qd = u16(buf, 4);
  for (let i = 0; i < qd; i++) {
    const start = off;
    let q: Question;
    try {
      const name = unpackName(buf, off, posOut);
      off = posOut.off;
      let t = 0;
      let c = 0;
      if (off !== buf.length) {
        if (off + 2 > buf.length) throw new WireError('dns: overflow unpacking uint16');
        t = u16(buf, off);
        off += 2;
        if (off !== buf.length) {
          if (off + 2 > buf.length) throw new WireError('dns: overflow unpacking uint16');
          c = u16(buf, off);
          off += 2;
        }
      }
      q = { name, type: typeToString(t), class: classToString(c) };
    } catch (e) {
      throw new DecodeError(`bad question: ${(e as Error).message}`, m);
    }
    if (start === off) break;
    m.questions.push(q);
  }
  try {
    off = decodeSection(buf, off, u16(buf, 6), m.answers);
    off = decodeSection(buf, off, u16(buf, 8), m.authorities);
    decodeSection(buf, off, u16(buf, 10), m.additionals);
  } catch (e) {
    throw new DecodeError((e as Error).message, m);
  }
  return m;
}

function decodeSection(buf: Buffer, off: number, count: number, out: DnsRecord[]): number {
  for (let i = 0; i < count; i++) {
    if (off === buf.length) break; // header count is a lie; miekg stops here
    const rr = decodeRecord(buf, off);
    off = posOut.off;
    out.push(rr);
  }
  return off;
}

/** Decodes one record at `off`; leaves the offset after it in `posOut.off`. */
function decodeRecord(buf: Buffer, off: number): DnsRecord {
  const name = unpackName(buf, off, posOut);
  off = posOut.off;
  if (off + 10 > buf.length) throw new WireError('dns: overflow unpacking uint16');
  const t = u16(buf, off);
  const klass = u16(buf, off + 2);
  const ttl = u32(buf, off + 4);
  const rdlen = u16(buf, off + 8);
  off += 10;
  const end = off + rdlen;
  if (end > buf.length) throw new WireError('dns: overflowing header size');
  const rd = buf.subarray(0, end); // names may point backwards; reads may not pass `end`
  let rr: DnsRecord;
  if (t === 41) {
    rr = {
      name,
      type: 'OPT',
      udpPayloadSize: klass,
      extendedRcode: ttl >>> 24,
      ednsVersion: (ttl >>> 16) & 0xff,
      flags: ttl & 0xffff,
      options: rdlen === 0 ? [] : decodeOptions(rd, off),
    };
  } else {
    rr = { name, type: typeToString(t), class: classToString(klass), ttl, data: rdlen === 0 ? emptyData(t) : decodeRdata(t, rd, off, end) };
  }
  posOut.off = end;
  return rr;
}

function emptyData(t: number): RData {
  switch (t) {
    case 1:
    case 28:
      return '';
    default:
      return new Uint8Array(0);
  }
}

const nameOut = { off: 0 };
function rdName(b: Buffer, off: number): string {
  return unpackName(b, off, nameOut);
}

function need(off: number, n: number, end: number): void {
  if (off + n > end) throw new WireError('dns: buffer size too small');
}

function decodeRdata(t: number, b: Buffer, off: number, end: number): RData {
  let data: RData;
  let o = off;
  switch (t) {
    case 1: // A
      need(o, 4, end);
      data = `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
      o += 4;
      break;
    case 28: // AAAA
      need(o, 16, end);
      data = ipv6String(b, o);
      o += 16;
      break;
    case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12: case 39: // NS MD MF CNAME MB MG MR PTR DNAME
      data = rdName(b, o);
      o = nameOut.off;
      break;
    case 15: case 18: case 21: case 36: { // MX AFSDB RT KX
      need(o, 2, end);
      const preference = u16(b, o);
      const exchange = rdName(b, o + 2);
      o = nameOut.off;
      data = { preference, exchange } satisfies MxData;
      break;
    }
    case 6: { // SOA
      const mname = rdName(b, o);
      const rname = rdName(b, nameOut.off);
      o = nameOut.off;
      need(o, 20, end);
      data = {
        mname, rname, serial: u32(b, o), refresh: u32(b, o + 4), retry: u32(b, o + 8), expire: u32(b, o + 12), minimum: u32(b, o + 16),
      } satisfies SoaData;
      o += 20;
      break;
    }
    case 33: { // SRV
      need(o, 6, end);
      const priority = u16(b, o);
      const weight = u16(b, o + 2);
      const port = u16(b, o + 4);
      const target = rdName(b, o + 6);
      o = nameOut.off;
      data = { priority, weight, port, target } satisfies SrvData;
      break;
    }
    case 16: case 99: { // TXT SPF
      const parts: Uint8Array[] = [];
      while (o < end) {
        const l = b[o]!;
        need(o + 1, l, end);
        parts.push(Buffer.from(b.subarray(o + 1, o + 1 + l)));
        o += 1 + l;
      }
      data = parts;
      break;
    }
    case 13: { // HINFO
      need(o, 1, end);
      const l1 = b[o]!;
      need(o + 1, l1, end);
      const cpu = b.toString('latin1', o + 1, o + 1 + l1);
      o += 1 + l1;
      need(o, 1, end);
      const l2 = b[o]!;
      need(o + 1, l2, end);
      const os = b.toString('latin1', o + 1, o + 1 + l2);
      o += 1 + l2;
      data = { cpu, os } satisfies HinfoData;
      break;
    }
    case 14: { // MINFO
      const rmailbx = rdName(b, o);
      const emailbx = rdName(b, nameOut.off);
      o = nameOut.off;
      data = { rmailbx, emailbx } satisfies MinfoData;
      break;
    }
    case 257: { // CAA
      need(o, 2, end);
      const flags = b[o]!;
      const tl = b[o + 1]!;
      need(o + 2, tl, end);
      const tag = b.toString('latin1', o + 2, o + 2 + tl);
      const value = b.toString('latin1', o + 2 + tl, end);
      o = end;
      data = { flags, tag, value, issuerCritical: (flags & 0x80) !== 0 } satisfies CaaData;
      break;
    }
    default:
      data = Buffer.from(b.subarray(o, end));
      o = end;
  }
  if (o !== end) throw new WireError('dns: bad rdlength');
  return data;
}

function ipv6String(b: Uint8Array, o: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(u16(b, o + i));
  // IPv4-mapped: print as ::ffff:a.b.c.d like Go
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  }
  // longest run of zero groups (length >= 2) is compressed
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** EDNS0 options, validated as miekg/dns does (malformed known options are errors). */
function decodeOptions(b: Buffer, off: number): EdnsOption[] {
  const end = b.length;
  const opts: EdnsOption[] = [];
  while (off < end) {
    if (off + 4 > end) throw new WireError('dns: overflow unpacking opt');
    const code = u16(b, off);
    const len = u16(b, off + 2);
    off += 4;
    if (off + len > end) throw new WireError('dns: overflow unpacking opt');
    const data = Buffer.from(b.subarray(off, off + len));
    validateOption(code, data);
    opts.push({ code, data });
    off += len;
  }
  return opts;
}

function validateOption(code: number, d: Uint8Array): void {
  const n = d.length;
  switch (code) {
    case EDNS.SUBNET: {
      if (n < 4) throw new WireError('dns: buffer size too small');
      const family = u16(d, 0);
      const src = d[2]!;
      const scope = d[3]!;
      if (family === 0) {
        if (src !== 0) throw new WireError('bad address family');
      } else if (family === 1) {
        if (src > 32 || scope > 32) throw new WireError('bad netmask');
      } else if (family === 2) {
        if (src > 128 || scope > 128) throw new WireError('bad netmask');
      } else {
        throw new WireError('bad address family');
      }
      return;
    }
    case EDNS.UL:
      if (n !== 4 && n !== 8) throw new WireError('dns: buffer size too small');
      return;
    case EDNS.LLQ:
      if (n < 18) throw new WireError('dns: buffer size too small');
      return;
    case EDNS.EXPIRE:
      if (n !== 0 && n < 4) throw new WireError('dns: buffer size too small');
      return;
    case EDNS.TCP_KEEPALIVE:
      if (n !== 0 && n !== 2) throw new WireError(`length mismatch, want 0/2 but got ${n}`);
      return;
    case EDNS.EDE:
    case EDNS.ZONEVERSION:
      if (n < 2) throw new WireError('dns: buffer size too small');
      return;
    case EDNS.REPORTING:
      unpackName(toBuffer(d), 0, { off: 0 });
      return;
    default:
      return;
  }
}

// ---------------------------------------------------------------------------
// lengths (miekg's Len with and without a compression map)

type LenMap = Set<string> | null;

function domainNameLen(s: string, off: number, comp: LenMap, compress: boolean): number {
  if (s === '' || s === '.') return 1;
  if (comp !== null && (compress || off < MAX_COMPRESSION_OFFSET)) {
    if (plainNameFastPaths && plainText(s)) return plainNameLen(s, off, comp, compress);
    const starts = labelStarts(s);
    for (const st of starts) {
      const suffix = st === 0 ? s : s.slice(st);
      if (comp.has(suffix)) {
        if (compress) return prefixWireLen(s, st) + 2;
        break;
      }
      if (off + byteLen(s, st) < MAX_COMPRESSION_OFFSET) comp.add(suffix);
    }
    // miekg's search: inserts until the first hit; keys are presentation suffixes
  }
  return prefixWireLen(s, s.length) + 1;
}

/** ASCII without backslashes: presentation offsets are wire offsets. */
function plainText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || c === 0x5c) return false;
  }
  return true;
}

/** domainNameLen for a plainText name: the same suffixes, visited without splitting it. */
function plainNameLen(s: string, off: number, comp: Set<string>, compress: boolean): number {
  const n = s.length;
  for (let st = 0; ; ) {
    const suffix = st === 0 ? s : s.slice(st);
    if (comp.has(suffix)) {
      if (compress) return st + 2;
      break;
    }
    if (off + st < MAX_COMPRESSION_OFFSET) comp.add(suffix);
    const dot = s.indexOf('.', st);
    if (dot === -1 || dot === n - 1) break;
    st = dot + 1;
  }
  return n + 1;
}

/** Wire octets taken by the labels of `s` before presentation offset `upto`. */
function prefixWireLen(s: string, upto: number): number {
  // Matches miekg's use of presentation offsets: for unescaped names it is
  // simply `upto`; escapes shrink it.
  if (s.indexOf('\\') === -1) return byteLen(s, upto);
  let n = 0;
  for (let i = 0; i < upto; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 3 < s.length && isD(s, i + 1) && isD(s, i + 2) && isD(s, i + 3)) i += 3;
      else i++;
    }
    n++;
  }
  return n;
}

function byteLen(s: string, upto: number): number {
  for (let i = 0; i < upto; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s.slice(0, upto));
  return upto;
}

function isD(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

const COMPRESSIBLE_RDATA = new Set([2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15]);

function textLen(x: string | Uint8Array): number {
  return typeof x === 'string' ? Buffer.byteLength(x) : x.length;
}

/** Length of one record at message offset `off` (miekg `RR.len`). */
export function recordLen(r: DnsRecord, off: number, comp: LenMap): number {
  let l = domainNameLen(r.name, off, comp, true) + 10;
  if (isOpt(r)) {
    for (const o of r.options) l += 4 + o.data.length;
    return l;
  }
  const t = typeCode(r.type) ?? 0;
  const d = r.data;
  if (d instanceof Uint8Array) return l + d.length;
  switch (t) {
    case 1:
      return l + (d === '' ? 0 : 4);
    case 28:
      return l + (d === '' ? 0 : 16);
    case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12:
      return l + domainNameLen(d as string, off + l, comp, true);
    case 39:
      return l + domainNameLen(d as string, off + l, comp, false);
    case 15: case 36: case 21: case 18: {
      const mx = d as MxData;
      return l + 2 + domainNameLen(mx.exchange, off + l + 2, comp, t === 15);
    }
    case 6: {
      const soa = d as SoaData;
      l += domainNameLen(soa.mname, off + l, comp, true);
      l += domainNameLen(soa.rname, off + l, comp, true);
      return l + 20;
    }
    case 14: {
      const mi = d as MinfoData;
      l += domainNameLen(mi.rmailbx, off + l, comp, true);
      return l + domainNameLen(mi.emailbx, off + l, comp, true);
    }
    case 33: {
      const srv = d as SrvData;
      return l + 6 + domainNameLen(srv.target, off + l + 6, comp, false);
    }
    case 16: case 99: {
      const parts = Array.isArray(d) ? d : [d as string];
      for (const p of parts) l += 1 + textLen(p);
      return l;
    }
    case 13: {
      const h = d as HinfoData;
      return l + 2 + h.cpu.length + h.os.length;
    }
    case 257: {
      const c = d as CaaData;
      return l + 2 + c.tag.length + c.value.length;
    }
    default:
      return l + foreignRdata(r).length;
  }
}

/** Length of a question at `off`. */
function questionLen(q: Question, off: number, comp: LenMap): number {
  return domainNameLen(q.name, off, comp, true) + 4;
}

/** Uncompressed (comp = null) or compressed (a fresh Set) message length. */
export function messageLen(m: Msg, compress: boolean): number {
  const comp: LenMap = compress && isCompressible(m) ? new Set() : null;
  let l = 12;
  for (const q of m.questions) l += questionLen(q, l, comp);
  for (const r of m.answers) l += recordLen(r, l, comp);
  for (const r of m.authorities) l += recordLen(r, l, comp);
  for (const r of m.additionals) l += recordLen(r, l, comp);
  return l;
}

function isCompressible(m: Msg): boolean {
  return m.questions.length > 1 || m.answers.length > 0 || m.authorities.length > 0 || m.additionals.length > 0;
}

/**
 * miekg's `Msg.Truncate(size)`: if the uncompressed message fits, returns
 * false (send uncompressed). Otherwise removes the OPT, keeps as many records
 * as fit compressed (answer, then authority, then additional), sets TC when
 * anything was dropped, re-appends the OPT, and returns true (send compressed).
 */
export function truncateMessage(m: Msg, size: number, uncompressedLen: number = messageLen(m, false)): boolean {
  if (size < 512) size = 512;
  if (uncompressedLen <= size) return false;
  let opt: OptRecord | undefined;
  for (let i = m.additionals.length - 1; i >= 0; i--) {
    const r = m.additionals[i]!;
    if (isOpt(r)) {
      opt = r;
      m.additionals.splice(i, 1);
      break;
    }
  }
  if (opt) size -= recordLen(opt, 0, null);
  const comp = new Set<string>();
  let l = 12;
  for (const q of m.questions) l += questionLen(q, l, comp);
  let nA = 0;
  let nN = 0;
  let nX = 0;
  if (l < size) [l, nA] = truncateLoop(m.answers, size, l, comp);
  if (l < size) [l, nN] = truncateLoop(m.authorities, size, l, comp);
  if (l < size) [, nX] = truncateLoop(m.additionals, size, l, comp);
  if (m.answers.length > nA || m.authorities.length > nN || m.additionals.length > nX) m.flags |= 1 << 9;
  m.answers.length = nA;
  m.authorities.length = nN;
  m.additionals.length = nX;
  if (opt) m.additionals.push(opt);
  return true;
}

function truncateLoop(rrs: DnsRecord[], size: number, l: number, comp: Set<string>): [number, number] {
  for (let i = 0; i < rrs.length; i++) {
    l += recordLen(rrs[i]!, l, comp);
    if (l > size) return [size, i];
    if (l === size) return [l, i + 1];
  }
  return [l, rrs.length];
}

// ---------------------------------------------------------------------------
// encoding

let plainNameFastPaths = true;

/**
 * Turns the encoder's fast paths for plain ASCII names on or off (on by
 * default). Off, every name takes the general path; tests compare the two.
 */
export function setPlainNameFastPaths(on: boolean): void {
  plainNameFastPaths = on;
}

class Packer {
  buf: Buffer;
  off = 0;
  /** Where the DNS message starts in `buf` (2 with a TCP length prefix); pointers are relative to it. */
  base = 0;
  comp: Map<string, number> | null;
  compress: boolean;

  constructor(buf: Buffer, compress: boolean) {
    this.buf = buf;
    this.compress = compress;
    this.comp = compress ? new Map() : null;
  }

  ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.off);
    this.buf = nb;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.off++] = v & 0xff;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf[this.off++] = (v >>> 8) & 0xff;
    this.buf[this.off++] = v & 0xff;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.off);
    this.off += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.off);
    this.off += b.length;
  }

  /** Writes a name; `compressible` says whether this field may use a pointer. */
  name(s: string, compressible: boolean): void {
    if (s === '') return;
    if (s === '.') {
      this.u8(0);
      return;
    }
    if (!isFqdn(s)) throw new WireError(`dns: domain must be fully qualified: ${s}`);
    const comp = this.comp;
    if (plainNameFastPaths && (comp === null ? this.plainName(s) : this.plainCompressed(s, comp, compressible))) return;
    const labels = nameToLabels(s);
    const starts = labelStarts(s);
    for (let i = 0; i < labels.length; i++) {
      if (comp !== null) {
        const key = i === 0 ? s : s.slice(starts[i]!);
        const p = comp.get(key);
        const rel = this.off - this.base;
        if (p !== undefined) {
          if (compressible && this.compress) {
            this.u16(0xc000 | p);
            return;
          }
        } else if (rel < MAX_COMPRESSION_OFFSET) {
          comp.set(key, rel);
        }
      }
      const l = labels[i]!;
      this.u8(l.length);
      this.bytes(l);
    }
    this.u8(0);
  }

  /**
   * Fast path with a compression map, for a name made only of ASCII characters
   * other than backslash (labels are the text between dots): the same pointers
   * and map entries as the general path, without decoding labels to bytes.
   * Returns false (having written nothing) when the name needs the general path.
   */
  private plainCompressed(s: string, comp: Map<string, number>, compressible: boolean): boolean {
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f || c === 0x5c) return false;
    }
    // check every label before writing anything, as nameToLabels does
    for (let start = 0; start < n; ) {
      const dot = s.indexOf('.', start);
      const l = dot - start;
      if (l === 0 || l > 63) throw new WireError('dns: bad rdata');
      start = dot + 1;
    }
    this.ensure(n + 1);
    const buf = this.buf;
    for (let start = 0; start < n; ) {
      const key = start === 0 ? s : s.slice(start);
      const p = comp.get(key);
      const rel = this.off - this.base;
      if (p !== undefined) {
        if (compressible && this.compress) {
          this.u16(0xc000 | p);
          return true;
        }
      } else if (rel < MAX_COMPRESSION_OFFSET) {
        comp.set(key, rel);
      }
      const dot = s.indexOf('.', start);
      let o = this.off;
      buf[o++] = dot - start;
      for (let i = start; i < dot; i++) buf[o++] = s.charCodeAt(i);
      this.off = o;
      start = dot + 1;
    }
    buf[this.off++] = 0;
    return true;
  }

  /**
   * Fast path without a compression map: writes a name made only of ASCII
   * characters other than backslash byte by byte. Returns false (having
   * written nothing) when the name needs the general path.
   */
  private plainName(s: string): boolean {
    const n = s.length;
    this.ensure(n + 1);
    const buf = this.buf;
    const start = this.off;
    let lenAt = start;
    let o = start + 1;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x2e) {
        const l = o - lenAt - 1;
        if (l === 0 || l > 63) throw new WireError('dns: bad rdata');
        buf[lenAt] = l;
        lenAt = o;
        o++;
      } else if (c > 0x7f || c === 0x5c) {
        return false;
      } else {
        buf[o++] = c;
      }
    }
    // the final dot set lenAt to the root label's position
    buf[lenAt] = 0;
    this.off = lenAt + 1;
    return true;
  }

  text(x: string | Uint8Array, enc: 'utf8' | 'latin1' = 'utf8'): void {
    const b = typeof x === 'string' ? Buffer.from(x, enc) : x;
    if (b.length > 255) throw new WireError('dns: character-string too long');
    this.u8(b.length);
    this.bytes(b);
  }
}

let scratch: Buffer = Buffer.allocUnsafe(4096);

/**
 * Encodes a message. With `compress`, names are compressed exactly as
 * miekg/dns does (owner names and the RDATA names of NS, CNAME, PTR, SOA, MX,
 * MB, MD, MF, MG, MINFO, MR). Returns a new Buffer. `lengthHint`, when the
 * caller knows the encoded length already (`messageLen(m, false)` of an
 * uncompressed message), lets the message be written straight into a buffer
 * of that size instead of being copied out of a scratch buffer; a wrong hint
 * costs a copy, never a wrong result.
 */
export function encodeMessage(m: Msg, compress = false, tcpFrame = false, lengthHint = 0): Buffer {
  const frame = tcpFrame ? 2 : 0;
  const direct = lengthHint > 0 && lengthHint <= 0xffff ? Buffer.allocUnsafe(lengthHint + frame) : undefined;
  const p = new Packer(direct ?? scratch, compress && isCompressible(m));
  if (tcpFrame) {
    p.u16(0);
    p.base = 2;
  }
  p.u16(m.id);
  p.u16((m.flags & 0x7fff) | (m.type === 'response' ? 0x8000 : 0));
  p.u16(m.questions.length);
  p.u16(m.answers.length);
  p.u16(m.authorities.length);
  p.u16(m.additionals.length);
  for (const q of m.questions) {
    p.name(q.name, true);
    p.u16(requireType(q.type));
    p.u16(requireClass(q.class));
  }
  for (const r of m.answers) encodeRecord(p, r);
  for (const r of m.authorities) encodeRecord(p, r);
  for (const r of m.additionals) encodeRecord(p, r);
  if (tcpFrame) {
    const n = p.off - 2;
    if (n > 0xffff) throw new WireError('dns: message too large for TCP');
    p.buf[0] = n >>> 8;
    p.buf[1] = n & 0xff;
  }
  if (p.buf === direct) return p.off === direct.length ? direct : direct.subarray(0, p.off);
  if (p.buf.length > scratch.length && p.buf.length <= 1 << 17) scratch = p.buf;
  const out = Buffer.allocUnsafe(p.off);
  p.buf.copy(out, 0, 0, p.off);
  return out;
}

function requireType(t: string): number {
  const c = typeCode(t);
  if (c === undefined) throw new WireError(`dns: unknown type ${t}`);
  return c;
}
function requireClass(c: string | undefined): number {
  if (c === undefined) return 1;
  const v = classCode(c);
  if (v === undefined) throw new WireError(`dns: unknown class ${c}`);
  return v;
}

/** Encodes one record (used by encodeMessage and by plugins that build wire data). */
function encodeRecord(p: Packer, r: DnsRecord): void {
  p.name(r.name, true);
  if (isOpt(r)) {
    p.u16(41);
    p.u16(r.udpPayloadSize & 0xffff);
    p.u32((((r.extendedRcode & 0xff) << 24) | ((r.ednsVersion & 0xff) << 16) | (r.flags & 0xffff)) >>> 0);
    const lenAt = p.off;
    p.u16(0);
    for (const o of r.options) {
      p.u16(o.code);
      p.u16(o.data.length);
      p.bytes(o.data);
    }
    p.buf.writeUInt16BE(p.off - lenAt - 2, lenAt);
    return;
  }
  const t = requireType(r.type);
  p.u16(t);
  p.u16(requireClass(r.class));
  p.u32(r.ttl ?? 0);
  const lenAt = p.off;
  p.u16(0);
  encodeRdata(p, t, r);
  const rdlen = p.off - lenAt - 2;
  if (rdlen > 0xffff) throw new WireError('dns: bad rdata');
  p.buf.writeUInt16BE(rdlen, lenAt);
}

function encodeRdata(p: Packer, t: number, r: RR): void {
  const d = r.data;
  if (d instanceof Uint8Array) {
    p.bytes(d);
    return;
  }
  switch (t) {
    case 1: {
      if (d === '') return;
      const s = d as string;
      if (writeV4(p, s)) return;
      const v4 = mappedV4(s);
      if (v4 === undefined || !writeV4(p, v4)) throw new WireError(`dns: bad A address ${s}`);
      return;
    }
    case 28: {
      if (d === '') return;
      p.bytes(ipv6Bytes(d as string));
      return;
    }
    case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12:
      p.name(d as string, true);
      return;
    case 39:
      p.name(d as string, false);
      return;
    case 15: case 18: case 21: case 36: {
      const mx = d as MxData;
      p.u16(mx.preference);
      p.name(mx.exchange, t === 15);
      return;
    }
    case 6: {
      const s = d as SoaData;
      p.name(s.mname, true);
      p.name(s.rname, true);
      p.u32(s.serial);
      p.u32(s.refresh);
      p.u32(s.retry);
      p.u32(s.expire);
      p.u32(s.minimum);
      return;
    }
    case 14: {
      const mi = d as MinfoData;
      p.name(mi.rmailbx, true);
      p.name(mi.emailbx, true);
      return;
    }
    case 33: {
      const s = d as SrvData;
      p.u16(s.priority);
      p.u16(s.weight);
      p.u16(s.port);
      p.name(s.target, false);
      return;
    }
    case 16: case 99: {
      const parts = Array.isArray(d) ? d : [d as string];
      for (const part of parts) p.text(part);
      return;
    }
    case 13: {
      const h = d as HinfoData;
      p.text(h.cpu, 'latin1');
      p.text(h.os, 'latin1');
      return;
    }
    case 257: {
      const c = d as CaaData;
      let flags = c.flags ?? 0;
      if (c.issuerCritical) flags |= 0x80;
      p.u8(flags);
      p.text(c.tag, 'latin1');
      p.bytes(Buffer.from(c.value, 'latin1'));
      return;
    }
    default:
      p.bytes(foreignRdata(r));
  }
}

/** Writes a dotted-quad address; false when `s` is not one. */
function writeV4(p: Packer, s: string): boolean {
  p.ensure(4);
  const buf = p.buf;
  let o = p.off;
  let v = -1;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && v === 0) return false; // no leading zeros
      v = v < 0 ? c - 48 : v * 10 + (c - 48);
      if (v > 255 || ++digits > 3) return false;
    } else if (c === 46 && v >= 0 && dots < 3) {
      buf[o++] = v;
      v = -1;
      digits = 0;
      dots++;
    } else {
      return false;
    }
  }
  if (dots !== 3 || v < 0) return false;
  buf[o++] = v;
  p.off = o;
  return true;
}

function mappedV4(s: string): string | undefined {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  return m && isIPv4(m[1]!) ? m[1] : undefined;
}

/** 16 bytes of an IPv6 (or IPv4-mapped) address. */
export function ipv6Bytes(s: string): Uint8Array {
  let addr = s;
  const pct = addr.indexOf('%');
  if (pct !== -1) addr = addr.slice(0, pct);
  if (!isIPv6(addr)) {
    if (isIPv4(addr)) addr = `::ffff:${addr}`;
    else throw new WireError(`dns: bad AAAA address ${s}`);
  }
  const out = new Uint8Array(16);
  let tail = addr;
  let v4: number[] | undefined;
  const lastColon = tail.lastIndexOf(':');
  const maybeV4 = tail.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    v4 = maybeV4.split('.').map(Number);
    tail = tail.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = tail.includes('::') ? tail.split('::') as [string, string] : [tail, undefined];
  const hg = head ? head.split(':') : [];
  const rg = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups: number[] = [];
  for (const g of hg) groups.push(parseInt(g, 16));
  if (rest !== undefined) {
    const zeros = 8 - hg.length - rg.length;
    for (let i = 0; i < zeros; i++) groups.push(0);
  }
  for (const g of rg) groups.push(parseInt(g, 16));
  for (let i = 0; i < 8; i++) {
    out[i * 2] = (groups[i]! >>> 8) & 0xff;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  if (v4) for (let i = 0; i < 4; i++) out[12 + i] = v4[i]!;
  return out;
}

interface RecordCodec {
  encode(data: unknown, buf?: Buffer, offset?: number): Buffer;
}

let dnsPacketModule: { record(type: string): RecordCodec } | undefined;

/** dns-packet, loaded the first time a record type the codec does not model is encoded. */
function dnsPacket(): { record(type: string): RecordCodec } {
  return (dnsPacketModule ??= createRequire(import.meta.url)('dns-packet') as { record(type: string): RecordCodec });
}

/** RDATA of a type the codec does not model, encoded by dns-packet. */
function foreignRdata(r: RR): Uint8Array {
  const codec = dnsPacket().record(r.type);
  const enc = codec.encode(r.data);
  // dns-packet writes RDLENGTH first; strip it
  return enc.subarray(2);
}

/** Encodes a single record with no compression (for hashing, caching and tests). */
export function encodeRecordStandalone(r: DnsRecord): Buffer {
  const p = new Packer(Buffer.allocUnsafe(512), false);
  encodeRecord(p, r);
  return Buffer.from(p.buf.subarray(0, p.off));
}
