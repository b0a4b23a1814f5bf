/**
 * RDATA in presentation format -> the tsdns record model, following
 * miekg/dns's scan_rr.go (error texts included). Types tsdns models get
 * structured data (addresses, names, MX/SRV/SOA/CAA/HINFO/MINFO objects,
 * TXT as byte strings); the others are encoded to raw RDATA bytes here.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { decodeMessage, ipv6Bytes, type RData } from '@tsdns/core';
import { RdataError } from './errors.js';
import { Z, typeToInt, stringToType, type Lex, type ZLexer } from './lexer.js';
import { canonicalName, dddToByte, isDDD, nameWire, toAbsoluteName } from './names.js';

/** strconv.ParseUint(token, 10, bits). */
export function parseUint(token: string, bits: 8 | 16 | 32): number | undefined {
  if (!/^[0-9]+$/.test(token)) return undefined;
  const n = Number(token);
  if (!Number.isSafeInteger(n) || n > 2 ** bits - 1) return undefined;
  return n;
}

/** Seconds in a TTL unit letter. */
const TTL_UNITS: Readonly<Record<string, bigint>> = { s: 1n, S: 1n, m: 60n, M: 60n, h: 3600n, H: 3600n, d: 86400n, D: 86400n, w: 604800n, W: 604800n };

/** miekg's stringToTTL: `1h30m`, `2w`, plain seconds; undefined when invalid or over 2^32-1. */
export function stringToTTL(token: string): number | undefined {
  let s = 0n;
  let i = 0n;
  for (const ch of token) {
    if (ch >= '0' && ch <= '9') {
      i = i * 10n + BigInt(ch.charCodeAt(0) - 48);
      // Go's uint overflows silently; keep the value bounded like a uint64
      i &= 0xffffffffffffffffn;
      continue;
    }
    const unit = TTL_UNITS[ch];
    if (unit === undefined) return undefined;
    s += i * unit;
    i = 0n;
  }
  const total = (s + i) & 0xffffffffffffffffn;
  if (total > 0xffffffffn) return undefined;
  return Number(total);
}

/** Bytes of a character-string in presentation form (`\DDD` and `\X` decoded), as miekg packs TXT. */
export function txtBytes(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      i++;
      if (i === s.length) break;
      if (isDDD(s, i)) {
        out.push(dddToByte(s, i));
        i += 2;
      } else {
        out.push(s.charCodeAt(i) & 0xff);
      }
    } else {
      out.push(c & 0xff);
    }
  }
  return Buffer.from(out);
}

/** miekg's slurpRemainder: only a blank, then the end of the line (or input), may follow. */
export function slurpRemainder(c: ZLexer): RdataError | undefined {
  let [l] = c.next();
  switch (l.value) {
    case Z.Blank:
      [l] = c.next();
      if (l.value !== Z.Newline && l.value !== Z.EOF) return new RdataError('garbage after rdata', l);
      return undefined;
    case Z.Newline:
    case Z.EOF:
      return undefined;
    default:
      return new RdataError('garbage after rdata', l);
  }
}

function endingToString(c: ZLexer, errstr: string): string {
  let s = '';
  let [l] = c.next();
  while (l.value !== Z.Newline && l.value !== Z.EOF) {
    if (l.err) throw new RdataError(errstr, l);
    if (l.value === Z.String) s += l.token;
    else if (l.value !== Z.Blank) throw new RdataError(errstr, l);
    [l] = c.next();
  }
  return s;
}

/** miekg escapedStringOffset. */
function escapedStringOffset(s: string, desired: number): { i: number; ok: boolean } {
  if (desired === 0) return { i: 0, ok: true };
  let cur = 0;
  let i = 0;
  while (i < s.length) {
    cur++;
    if (s.charCodeAt(i) !== 0x5c) i++;
    else if (isDDD(s, i + 1)) i += 4;
    else if (s.length - (i + 1) < 1) return { i: 0, ok: false };
    else i += 2;
    if (cur >= desired) return { i, ok: true };
  }
  return { i: -1, ok: true };
}

function endingToTxtSlice(c: ZLexer, errstr: string): string[] {
  let [l] = c.next();
  if (l.err) throw new RdataError(errstr, l);
  const s: string[] = [];
  let quote = false;
  let empty = false;
  while (l.value !== Z.Newline && l.value !== Z.EOF) {
    if (l.err) throw new RdataError(errstr, l);
    switch (l.value) {
      case Z.String: {
        empty = false;
        let p = 0;
        for (;;) {
          const r = escapedStringOffset(l.token.slice(p), 255);
          if (!r.ok) throw new RdataError(errstr, l);
          if (r.i !== -1 && p + r.i !== l.token.length) {
            s.push(l.token.slice(p, p + r.i));
          } else {
            s.push(l.token.slice(p));
            break;
          }
          p += r.i;
        }
        break;
      }
      case Z.Blank:
        if (quote) throw new RdataError(errstr, l);
        break;
      case Z.Quote:
        if (empty && quote) s.push('');
        quote = !quote;
        empty = true;
        break;
      default:
        throw new RdataError(errstr, l);
    }
    [l] = c.next();
  }
  if (quote) throw new RdataError(errstr, l);
  return s;
}

function nextTok(c: ZLexer): Lex {
  return c.next()[0];
}

/** The name a token holds, absolute and canonical; throws `err` at the token. */
function nameOf(l: Lex, o: string, err: string): string {
  const n = toAbsoluteName(l.token, o);
  if (l.err || n === undefined) throw new RdataError(err, l);
  return canonicalName(n);
}

/** The unsigned number of `bits` a token holds; throws `err` at the token. */
function uintOf(l: Lex, bits: 8 | 16 | 32, err: string): number {
  const v = parseUint(l.token, bits);
  if (v === undefined || l.err) throw new RdataError(err, l);
  return v;
}

function name(c: ZLexer, o: string, err: string): string {
  return nameOf(nextTok(c), o, err);
}

function uintTok(c: ZLexer, bits: 8 | 16 | 32, err: string): number {
  return uintOf(nextTok(c), bits, err);
}

function done(c: ZLexer): void {
  const e = slurpRemainder(c);
  if (e) throw e;
}

function u16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function charString(bytes: Uint8Array, err: string, l: Lex): number[] {
  if (bytes.length > 255) throw new RdataError(err, l);
  return [bytes.length, ...bytes];
}

const ALGORITHMS: Record<string, number> = {
  RSAMD5: 1,
  DH: 2,
  DSA: 3,
  RSASHA1: 5,
  'DSA-NSEC3-SHA1': 6,
  'RSASHA1-NSEC3-SHA1': 7,
  RSASHA256: 8,
  RSASHA512: 10,
  'ECC-GOST': 12,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
  INDIRECT: 252,
  PRIVATEDNS: 253,
  PRIVATEOID: 254,
};

function base64Bytes(s: string, err: string, l: Lex): Buffer {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new RdataError(err, l);
  return Buffer.from(s, 'base64');
}

function hexBytes(s: string, err: string, l: Lex): Buffer {
  if (s.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(s)) throw new RdataError(err, l);
  return Buffer.from(s, 'hex');
}

/** miekg StringToTime: YYYYMMDDHHmmSS to a 32-bit serial-arithmetic timestamp. */
function stringToTime(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const dt = new Date(t);
  if (dt.getUTCDate() !== d || dt.getUTCMonth() !== mo - 1) return undefined;
  const unix = BigInt(Math.floor(t / 1000));
  const year68 = 1n << 31n;
  let mod = unix / year68 - 1n;
  if (mod < 0n) mod = 0n;
  return Number(BigInt.asUintN(32, unix - mod * year68));
}

function parseIPv4Strict(s: string): boolean {
  return !s.includes(':') && isIPv4(s);
}

function ipv4Bytes(s: string): number[] {
  return s.split('.').map(Number);
}

/** NSEC-style type bitmap. */
function typeBitmap(types: number[]): number[] {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  const out: number[] = [];
  let window = -1;
  let bits: number[] = [];
  const flush = (): void => {
    if (window < 0) return;
    let len = bits.length;
    while (len > 0 && bits[len - 1] === 0) len--;
    out.push(window, len, ...bits.slice(0, len));
  };
  for (const t of sorted) {
    const w = t >> 8;
    if (w !== window) {
      flush();
      window = w;
      bits = new Array<number>(32).fill(0);
    }
    const lo = t & 0xff;
    bits[lo >> 3]! |= 0x80 >> (lo & 7);
  }
  flush();
  return out;
}

// ---------------------------------------------------------------------------
// SVCB / HTTPS

const SVCB_KEYS: Record<string, number> = {
  mandatory: 0,
  alpn: 1,
  'no-default-alpn': 2,
  port: 3,
  ipv4hint: 4,
  ech: 5,
  ipv6hint: 6,
  dohpath: 7,
  ohttp: 8,
};
const SVCB_RESERVED = 65535;

function svcbStringToKey(s: string): number {
  if (s.startsWith('key')) {
    const a = parseUint(s.slice(3), 16);
    if (a === undefined || a === 65535 || s[3] === '0' || Object.values(SVCB_KEYS).includes(a)) return SVCB_RESERVED;
    return a;
  }
  return SVCB_KEYS[s] ?? SVCB_RESERVED;
}

function svcbParseParam(b: string): number[] {
  const data: number[] = [];
  for (let i = 0; i < b.length; ) {
    const ch = b.charCodeAt(i);
    if (ch !== 0x5c) {
      data.push(ch & 0xff);
      i++;
      continue;
    }
    if (i + 1 === b.length) throw new Error('escape unterminated');
    const d = b.charCodeAt(i + 1);
    if (d >= 48 && d <= 57) {
      if (isDDD(b, i + 1)) {
        const a = Number(b.slice(i + 1, i + 4));
        if (a <= 255) {
          i += 4;
          data.push(a);
          continue;
        }
      }
      throw new Error('bad escaped octet');
    }
    data.push(d & 0xff);
    i += 2;
  }
  return data;
}

/** miekg nextByte: one possibly escaped byte at `p`; q = characters consumed (0 = dangling escape). */
function nextByte(s: string, p: number): { c: number; q: number } {
  if (p >= s.length) return { c: 0, q: 0 };
  if (s.charCodeAt(p) !== 0x5c) return { c: s.charCodeAt(p) & 0xff, q: 1 };
  const left = s.length - p;
  if (left === 1) return { c: 0, q: 0 };
  if (left > 3 && isDDD(s, p + 1)) return { c: dddToByte(s, p + 1), q: 4 };
  return { c: s.charCodeAt(p + 1) & 0xff, q: 2 };
}

function svcbValue(key: number, value: string): number[] {
  switch (key) {
    case 0: {
      const codes: number[] = [];
      let b = value;
      while (b.length > 0) {
        const k = b.indexOf(',');
        const part = k < 0 ? b : b.slice(0, k);
        b = k < 0 ? '' : b.slice(k + 1);
        codes.push(svcbStringToKey(part));
      }
      codes.sort((x, y) => x - y);
      return codes.flatMap(u16);
    }
    case 1: {
      if (value.length === 0) return [];
      const alpn: number[][] = [];
      let a: number[] = [];
      for (let p = 0; p < value.length; ) {
        let { c, q } = nextByte(value, p);
        if (q === 0) throw new Error('bad svcbalpn: unterminated escape');
        p += q;
        if (c === 0x2c) {
          if (a.length === 0) throw new Error('bad svcbalpn: empty protocol identifier');
          alpn.push(a);
          a = [];
          continue;
        }
        if (c === 0x5c) {
          const d = nextByte(value, p);
          if (d.q === 0) throw new Error('bad svcbalpn: unterminated escape decoding comma-separated list');
          if (d.c !== 0x5c && d.c !== 0x2c) throw new Error('bad svcbalpn: bad escaped character decoding comma-separated list');
          p += d.q;
          c = d.c;
        }
        a.push(c);
      }
      if (a.length === 0) throw new Error('bad svcbalpn: last protocol identifier empty');
      alpn.push(a);
      const out: number[] = [];
      for (const x of alpn) {
        if (x.length > 255) throw new Error('alpn: alpn too long');
        out.push(x.length, ...x);
      }
      return out;
    }
    case 2:
    case 8:
      if (value !== '') throw new Error(key === 2 ? 'bad svcbnodefaultalpn: no-default-alpn must have no value' : 'bad svcbohttp: ohttp must have no value');
      return [];
    case 3: {
      const port = parseUint(value, 16);
      if (port === undefined) throw new Error('bad svcbport: port out of range');
      return u16(port);
    }
    case 4: {
      if (value === '') throw new Error('bad svcbipv4hint: empty hint');
      if (value.includes(':')) throw new Error('bad svcbipv4hint: expected ipv4, got ipv6');
      const out: number[] = [];
      for (const e of value.split(',')) {
        if (!isIPv4(e)) throw new Error('bad svcbipv4hint: bad ip');
        out.push(...ipv4Bytes(e));
      }
      return out;
    }
    case 5: {
      if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new Error('bad svcbech: bad base64 ech');
      return [...Buffer.from(value, 'base64')];
    }
    case 6: {
      if (value === '') throw new Error('bad svcbipv6hint: empty hint');
      const out: number[] = [];
      for (const e of value.split(',')) {
        if (!isIPv6(e) || e.includes('%')) throw new Error('bad svcbipv6hint: bad ip');
        if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(e)) throw new Error('bad svcbipv6hint: expected ipv6, got ipv4-mapped-ipv6');
        out.push(...ipv6Bytes(e));
      }
      return out;
    }
    case 7:
      try {
        return svcbParseParam(value);
      } catch (e) {
        throw new Error(`bad svcbdohpath: ${(e as Error).message}`);
      }
    default:
      try {
        return svcbParseParam(value);
      } catch (e) {
        throw new Error(`bad svcblocal: svcb private/experimental key ${(e as Error).message}`);
      }
  }
}

function parseSVCB(c: ZLexer, o: string): Uint8Array {
  let l = nextTok(c);
  const prio = uintOf(l, 16, 'bad SVCB priority');
  nextTok(c);
  l = nextTok(c);
  const target = nameOf(l, o, 'bad SVCB Target');
  const pairs = new Map<number, number[]>();
  l = nextTok(c);
  let canHaveNextKey = true;
  while (l.value !== Z.Newline && l.value !== Z.EOF) {
    switch (l.value) {
      case Z.String: {
        if (!canHaveNextKey) throw new RdataError('bad SVCB value quotation', l);
        const idx = l.token.indexOf('=');
        let key: string;
        let value = '';
        if (idx < 0) {
          key = l.token;
        } else if (idx === 0) {
          throw new RdataError('bad SVCB key', l);
        } else {
          key = l.token.slice(0, idx);
          value = l.token.slice(idx + 1);
          if (value === '') {
            l = nextTok(c);
            if (l.value === Z.Quote) {
              canHaveNextKey = false;
              l = nextTok(c);
              if (l.value === Z.String) {
                value = l.token;
                l = nextTok(c);
                if (l.value !== Z.Quote) throw new RdataError('SVCB unterminated value', l);
              } else if (l.value !== Z.Quote) {
                throw new RdataError('bad SVCB value', l);
              }
            }
          }
        }
        const k = svcbStringToKey(key);
        if (k === SVCB_RESERVED) throw new RdataError('bad SVCB key', l);
        try {
          if (pairs.has(k)) throw new Error('repeated SVCB keys are not allowed');
          pairs.set(k, svcbValue(k, value));
        } catch (e) {
          throw new RdataError((e as Error).message, l);
        }
        break;
      }
      case Z.Quote:
        throw new RdataError("SVCB key can't contain double quotes", l);
      case Z.Blank:
        canHaveNextKey = true;
        break;
      default:
        throw new RdataError('bad SVCB values', l);
    }
    l = nextTok(c);
  }
  const out: number[] = [...u16(prio), ...nameWire(target)];
  for (const k of [...pairs.keys()].sort((a, b) => a - b)) {
    const v = pairs.get(k)!;
    out.push(...u16(k), ...u16(v.length), ...v);
  }
  return Buffer.from(out);
}

// ---------------------------------------------------------------------------

/** Thrown for types we know the code of but cannot read from text. */
export const UNSUPPORTED = 'RR type not supported by tsdns (write the record in RFC 3597 \\# form)';

/** Decodes raw RDATA of `type` into the tsdns model (through the wire codec). */
export function decodeRdata(type: number, rdata: Uint8Array): RData {
  const b = Buffer.alloc(12 + 11 + rdata.length);
  b.writeUInt16BE(1, 6); // ANCOUNT
  let o = 12;
  b[o++] = 0; // root owner
  b.writeUInt16BE(type, o);
  b.writeUInt16BE(1, o + 2);
  b.writeUInt32BE(0, o + 4);
  b.writeUInt16BE(rdata.length, o + 8);
  o += 10;
  Buffer.from(rdata).copy(b, o);
  const m = decodeMessage(b.subarray(0, o + rdata.length));
  const rr = m.answers[0] as { data: RData } | undefined;
  if (!rr) throw new Error('dns: bad rdata');
  return rr.data;
}

/** Parses the generic `\# LEN HEX` form (RFC 3597). */
export function parseRFC3597(c: ZLexer): Uint8Array {
  let l = nextTok(c);
  if (l.token !== '\\#') throw new RdataError('bad RFC3597 Rdata', l);
  nextTok(c);
  l = nextTok(c);
  const rdlength = uintOf(l, 16, 'bad RFC3597 Rdata ');
  const s = endingToString(c, 'bad RFC3597 Rdata');
  if (rdlength * 2 !== s.length) throw new RdataError('bad RFC3597 Rdata', l);
  return hexBytes(s, 'bad RFC3597 Rdata', l);
}

/** Types whose text form is read here (everything else needs RFC 3597 `\#`). */
export function isSupportedType(t: number): boolean {
  return PARSERS.has(t);
}

type Parser = (c: ZLexer, o: string) => RData;

/** How one RDATA field is read from text (and written on the wire when the type is kept as bytes). */
type FieldKind = 'u8' | 'u16' | 'u32' | 'algorithm' | 'name' | 'ipv4' | 'ipv6' | 'hex' | 'base64';

interface Field {
  readonly kind: FieldKind;
  /** The error for a bad value, in miekg's words ("bad TYPE Field"). */
  readonly err: string;
  /** A field running to the end of the line that miekg reads after one more token (the blank that ends the field before). */
  readonly afterBlank?: boolean;
}

type FieldValue = number | string | Buffer;

const F = {
  u8: (err: string): Field => ({ kind: 'u8', err }),
  u16: (err: string): Field => ({ kind: 'u16', err }),
  u32: (err: string): Field => ({ kind: 'u32', err }),
  /** A DNSSEC algorithm: its number or its mnemonic. */
  algorithm: (err: string): Field => ({ kind: 'algorithm', err }),
  name: (err: string): Field => ({ kind: 'name', err }),
  ipv4: (err: string): Field => ({ kind: 'ipv4', err }),
  ipv6: (err: string): Field => ({ kind: 'ipv6', err }),
  /** Hex digits to the end of the line. */
  hex: (err: string, afterBlank = false): Field => ({ kind: 'hex', err, afterBlank }),
  /** Base64 to the end of the line. */
  base64: (err: string): Field => ({ kind: 'base64', err }),
};

const BITS = { u8: 8, u16: 16, u32: 32 } as const;

function toEndOfLine(kind: FieldKind): boolean {
  return kind === 'hex' || kind === 'base64';
}

/** The value of a field held by one token; throws the field's error at the token. */
function tokenValue(l: Lex, o: string, f: Field): FieldValue {
  switch (f.kind) {
    case 'u8':
    case 'u16':
    case 'u32':
      return uintOf(l, BITS[f.kind], f.err);
    case 'algorithm': {
      let v = parseUint(l.token, 8);
      if (v === undefined) {
        v = ALGORITHMS[l.token.toUpperCase()];
        if (v === undefined || l.err) throw new RdataError(f.err, l);
      }
      return v;
    }
    case 'name':
      return nameOf(l, o, f.err);
    case 'ipv4':
      if (!parseIPv4Strict(l.token) || l.err) throw new RdataError(f.err, l);
      return l.token;
    default:
      if (!l.token.includes(':') || l.token.includes('%') || !isIPv6(l.token) || l.err) throw new RdataError(f.err, l);
      return l.token.toLowerCase();
  }
}

/**
 * Reads fields separated by blanks; nothing but a blank may follow the last
 * unless it runs to the end of the line. An error in a field to the end of
 * the line is reported at the token of the field before it (at its own first
 * token when it is the only field).
 */
function readFields(c: ZLexer, o: string, fields: readonly Field[]): FieldValue[] {
  const values: FieldValue[] = [];
  let last: Lex | undefined;
  for (const f of fields) {
    if (toEndOfLine(f.kind)) {
      if (last !== undefined && f.afterBlank) nextTok(c);
      const l = last ?? c.peek();
      const s = endingToString(c, f.err);
      values.push(f.kind === 'hex' ? hexBytes(s, f.err, l) : base64Bytes(s, f.err, l));
      return values;
    }
    if (last !== undefined) nextTok(c); // the blank between two fields
    last = nextTok(c);
    values.push(tokenValue(last, o, f));
  }
  done(c);
  return values;
}

function fieldWire(kind: FieldKind, v: FieldValue): ArrayLike<number> {
  switch (kind) {
    case 'u8':
    case 'algorithm':
      return [v as number];
    case 'u16':
      return u16(v as number);
    case 'u32':
      return u32(v as number);
    case 'name':
      return nameWire(v as string);
    case 'ipv4':
      return ipv4Bytes(v as string);
    case 'ipv6':
      return ipv6Bytes(v as string);
    default:
      return v as Buffer;
  }
}

/** A type whose RDATA is one field, kept as that value (an address or a name). */
function single(field: Field): Parser {
  return (c, o) => readFields(c, o, [field])[0] as RData;
}

/** A type tsdns keeps as an object: one property per field, read in this order. */
function structured(fields: Readonly<Record<string, Field>>): Parser {
  const keys = Object.keys(fields);
  const list = Object.values(fields);
  return (c, o) => {
    const values = readFields(c, o, list);
    const out: Record<string, FieldValue> = {};
    keys.forEach((k, i) => (out[k] = values[i]!));
    return out as unknown as RData;
  };
}

/** A type tsdns keeps as RDATA bytes: the fields' wire forms one after another. */
function wire(...fields: Field[]): Parser {
  return (c, o) => {
    const values = readFields(c, o, fields);
    const out: number[] = [];
    fields.forEach((f, i) => out.push(...Array.from(fieldWire(f.kind, values[i]!))));
    return Buffer.from(out);
  };
}

function txtLike(err: string, raw: boolean): Parser {
  return (c) => {
    const parts = endingToTxtSlice(c, err).map(txtBytes);
    if (!raw) return parts;
    const out: number[] = [];
    for (const p of parts) out.push(p.length, ...p);
    return Buffer.from(out);
  };
}

const nameType = (err: string): Parser => single(F.name(err));
const mxLike = (prefErr: string, nameErr: string): Parser => structured({ preference: F.u16(prefErr), exchange: F.name(nameErr) });
const dsLike = (t: string): Parser => wire(F.u16(`bad ${t} KeyTag`), F.algorithm(`bad ${t} Algorithm`), F.u8(`bad ${t} DigestType`), F.hex(`bad ${t} Digest`));
const dnskeyLike = (t: string): Parser => wire(F.u16(`bad ${t} Flags`), F.u8(`bad ${t} Protocol`), F.u8(`bad ${t} Algorithm`), F.base64(`bad ${t} PublicKey`));
const tlsaLike = (t: string): Parser => wire(F.u8(`bad ${t} Usage`), F.u8(`bad ${t} Selector`), F.u8(`bad ${t} MatchingType`), F.hex(`bad ${t} Certificate`));

function rrsig(c: ZLexer, o: string): RData {
  let l = nextTok(c);
  const upper = l.token.toUpperCase();
  let covered = stringToType(upper);
  if (covered === undefined) {
    covered = upper.startsWith('TYPE') ? typeToInt(l.token) : undefined;
    if (covered === undefined) throw new RdataError('bad RRSIG Typecovered', l);
  }
  nextTok(c);
  l = nextTok(c);
  if (l.err) throw new RdataError('bad RRSIG Algorithm', l);
  let alg = parseUint(l.token, 8);
  if (alg === undefined) {
    alg = ALGORITHMS[l.token];
    if (alg === undefined) throw new RdataError('bad RRSIG Algorithm', l);
  }
  nextTok(c);
  const labels = uintTok(c, 8, 'bad RRSIG Labels');
  nextTok(c);
  const origTtl = uintTok(c, 32, 'bad RRSIG OrigTtl');
  nextTok(c);
  l = nextTok(c);
  const exp = stringToTime(l.token) ?? parseUint(l.token, 32);
  if (exp === undefined) throw new RdataError('bad RRSIG Expiration', l);
  nextTok(c);
  l = nextTok(c);
  const inc = stringToTime(l.token) ?? parseUint(l.token, 32);
  if (inc === undefined) throw new RdataError('bad RRSIG Inception', l);
  nextTok(c);
  const keyTag = uintTok(c, 16, 'bad RRSIG KeyTag');
  nextTok(c);
  const signer = name(c, o, 'bad RRSIG SignerName');
  const sig = endingToString(c, 'bad RRSIG Signature');
  return Buffer.from([
    ...u16(covered),
    alg,
    labels,
    ...u32(origTtl),
    ...u32(exp),
    ...u32(inc),
    ...u16(keyTag),
    ...nameWire(signer),
    ...base64Bytes(sig, 'bad RRSIG Signature', l),
  ]);
}

function nsec(c: ZLexer, o: string): RData {
  const next = name(c, o, 'bad NSEC NextDomain');
  const types: number[] = [];
  let l = nextTok(c);
  while (l.value !== Z.Newline && l.value !== Z.EOF) {
    if (l.value === Z.String) {
      const upper = l.token.toUpperCase();
      const k = stringToType(upper) ?? typeToInt(l.token);
      if (k === undefined) throw new RdataError('bad NSEC TypeBitMap', l);
      types.push(k);
    } else if (l.value !== Z.Blank) {
      throw new RdataError('bad NSEC TypeBitMap', l);
    }
    l = nextTok(c);
  }
  return Buffer.from([...nameWire(next), ...typeBitmap(types)]);
}

function quotedField(c: ZLexer, err: string): string {
  nextTok(c);
  let l = nextTok(c);
  if (l.value !== Z.Quote) throw new RdataError(err, l);
  l = nextTok(c);
  if (l.value === Z.String) {
    const v = l.token;
    l = nextTok(c);
    if (l.value !== Z.Quote) throw new RdataError(err, l);
    return v;
  }
  if (l.value === Z.Quote) return '';
  throw new RdataError(err, l);
}

const PARSERS = new Map<number, Parser>([
  [1, single(F.ipv4('bad A A'))],
  [28, single(F.ipv6('bad AAAA AAAA'))],
  [2, nameType('bad NS Ns')],
  [3, nameType('bad MD Md')],
  [4, nameType('bad MF Mf')],
  [5, nameType('bad CNAME Target')],
  [7, nameType('bad MB Mb')],
  [8, nameType('bad MG Mg')],
  [9, nameType('bad MR Mr')],
  [12, nameType('bad PTR Ptr')],
  [39, nameType('bad DNAME Target')],
  [23, wire(F.name('bad NSAP-PTR Ptr'))],
  [
    6,
    (c, o) => {
      const mname = name(c, o, 'bad SOA Ns');
      nextTok(c);
      const rname = name(c, o, 'bad SOA Mbox');
      nextTok(c);
      const v: number[] = [];
      for (let i = 0; i < 5; i++) {
        const l = nextTok(c);
        if (l.err) throw new RdataError('bad SOA zone parameter', l);
        let x = parseUint(l.token, 32);
        if (x === undefined) {
          if (i === 0) throw new RdataError('bad SOA zone parameter', l);
          x = stringToTTL(l.token);
          if (x === undefined) throw new RdataError('bad SOA zone parameter', l);
        }
        v.push(x);
        if (i < 4) nextTok(c);
      }
      done(c);
      return { mname, rname, serial: v[0]!, refresh: v[1]!, retry: v[2]!, expire: v[3]!, minimum: v[4]! };
    },
  ],
  [
    13,
    (c) => {
      let chunks = endingToTxtSlice(c, 'bad HINFO Fields');
      if (chunks.length === 0) return { cpu: '', os: '' };
      if (chunks.length === 1) {
        const f = chunks[0]!.split(/[ \t\n\v\f\r]+/).filter((x) => x !== '');
        chunks = f.length > 1 ? f : [chunks[0]!, ''];
      }
      return { cpu: txtBytes(chunks[0]!).toString('latin1'), os: txtBytes(chunks.slice(1).join(' ')).toString('latin1') };
    },
  ],
  [14, structured({ rmailbx: F.name('bad MINFO Rmail'), emailbx: F.name('bad MINFO Email') })],
  [15, mxLike('bad MX Pref', 'bad MX Mx')],
  [18, mxLike('bad AFSDB Subtype', 'bad AFSDB Hostname')],
  [21, mxLike('bad RT Preference', 'bad RT Host')],
  [36, mxLike('bad KX Pref', 'bad KX Exchanger')],
  [16, txtLike('bad TXT Txt', false)],
  [99, txtLike('bad SPF Txt', false)],
  [56, txtLike('bad NINFO ZSData', true)],
  [258, txtLike('bad AVC Txt', true)],
  [261, txtLike('bad RESINFO Resinfo', true)],
  [17, wire(F.name('bad RP Mbox'), F.name('bad RP Txt'))],
  [33, structured({ priority: F.u16('bad SRV Priority'), weight: F.u16('bad SRV Weight'), port: F.u16('bad SRV Port'), target: F.name('bad SRV Target') })],
  [
    35,
    (c, o) => {
      const order = uintTok(c, 16, 'bad NAPTR Order');
      nextTok(c);
      const pref = uintTok(c, 16, 'bad NAPTR Preference');
      const flags = quotedField(c, 'bad NAPTR Flags');
      const service = quotedField(c, 'bad NAPTR Service');
      const regexp = quotedField(c, 'bad NAPTR Regexp');
      nextTok(c);
      const l = c.peek();
      const repl = name(c, o, 'bad NAPTR Replacement');
      done(c);
      return Buffer.from([
        ...u16(order),
        ...u16(pref),
        ...charString(txtBytes(flags), 'bad NAPTR Flags', l),
        ...charString(txtBytes(service), 'bad NAPTR Service', l),
        ...charString(txtBytes(regexp), 'bad NAPTR Regexp', l),
        ...nameWire(repl),
      ]);
    },
  ],
  [43, dsLike('DS')],
  [59, dsLike('CDS')],
  [32769, dsLike('DLV')],
  [48, dnskeyLike('DNSKEY')],
  [60, dnskeyLike('CDNSKEY')],
  [25, dnskeyLike('KEY')],
  [46, rrsig],
  [24, rrsig],
  [47, nsec],
  [44, wire(F.u8('bad SSHFP Algorithm'), F.u8('bad SSHFP Type'), F.hex('bad SSHFP Fingerprint', true))],
  [52, tlsaLike('TLSA')],
  [53, tlsaLike('SMIMEA')],
  [61, wire(F.base64('bad OPENPGPKEY PublicKey'))],
  [49, wire(F.base64('bad DHCID Digest'))],
  [
    256,
    (c) => {
      const priority = uintTok(c, 16, 'bad URI Priority');
      nextTok(c);
      const l = nextTok(c);
      const weight = uintOf(l, 16, 'bad URI Weight');
      nextTok(c);
      const s = endingToTxtSlice(c, 'bad URI Target');
      if (s.length !== 1) throw new RdataError('bad URI Target', l);
      return Buffer.from([...u16(priority), ...u16(weight), ...txtBytes(s[0]!)]);
    },
  ],
  [
    257,
    (c) => {
      let l = nextTok(c);
      const flags = uintOf(l, 8, 'bad CAA Flag');
      nextTok(c);
      l = nextTok(c);
      if (l.value !== Z.String) throw new RdataError('bad CAA Tag', l);
      const tag = l.token;
      nextTok(c);
      const s = endingToTxtSlice(c, 'bad CAA Value');
      if (s.length !== 1) throw new RdataError('bad CAA Value', l);
      return { flags, tag: txtBytes(tag).toString('latin1'), value: txtBytes(s[0]!).toString('latin1') };
    },
  ],
  [64, parseSVCB],
  [65, parseSVCB],
]);

/** Reads the RDATA of a type in its own text form; throws RdataError. */
export function parseRdata(type: number, c: ZLexer, origin: string): RData {
  const p = PARSERS.get(type);
  if (!p) throw new RdataError(UNSUPPORTED);
  return p(c, origin);
}

/** Empty RDATA (a record with nothing after its type, as in dynamic updates). */
export function emptyRdata(type: number): RData {
  return type === 1 || type === 28 ? '' : new Uint8Array(0);
}

