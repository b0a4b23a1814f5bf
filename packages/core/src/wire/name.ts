/**
 * Domain names on the wire and in presentation format.
 *
 * Names inside tsdns are presentation strings: fully qualified (trailing dot),
 * with CoreDNS's escaping — `\.`, `\\`, `\ `, `\'`, `\@`, `\;`, `\(`, `\)`,
 * `\"` for special bytes and `\DDD` for bytes outside printable ASCII. This
 * round-trips any wire name exactly, which a plain UTF-8 decode cannot.
 */

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

export const MAX_COMPRESSION_OFFSET = 16384;
const MAX_WIRE_OCTETS = 255;
const MAX_POINTERS = (MAX_WIRE_OCTETS + 1) / 2 - 2;

const SPECIAL = new Uint8Array(256);
for (const ch of ".  '@;()\"\\") SPECIAL[ch.charCodeAt(0)] = 1;
/** 0 = plain printable, 1 = needs backslash, 2 = needs \DDD */
const ESC = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  if (b < 0x20 || b > 0x7e) ESC[b] = 2;
  else if (SPECIAL[b]) ESC[b] = 1;
}

/**
 * Presentation bytes of the name being unpacked: a name of at most 255 wire
 * octets takes at most 4 characters per octet (`\DDD`).
 */
const nameBuf = Buffer.allocUnsafe(1024);

/**
 * Unpacks the name at `off`. Returns the presentation name and stores the
 * offset just past the name (past the first compression pointer) in
 * `out.off`. Follows miekg/dns: pointers may point anywhere, at most 126 of
 * them; the name may not exceed 255 octets; label types 0x40/0x80 are errors.
 * The name is built as bytes and made a string once (a flat string: no
 * concatenation tree for the many passes over it that follow).
 */
export function unpackName(msg: Uint8Array, off: number, out: { off: number }): string {
  const len = msg.length;
  const sb = nameBuf;
  let n = 0;
  let off1 = 0;
  let budget = MAX_WIRE_OCTETS;
  let ptr = 0;
  for (;;) {
    if (off >= len) throw new WireError('dns: buffer size too small');
    const c = msg[off++]!;
    const kind = c & 0xc0;
    if (kind === 0x00) {
      if (c === 0) break;
      const end = off + c;
      if (end > len) throw new WireError('dns: buffer size too small');
      budget -= c + 1;
      if (budget <= 0) throw new WireError('dns: domain name exceeded 255 wire-format octets');
      for (let i = off; i < end; i++) {
        const b = msg[i]!;
        const e = ESC[b];
        if (e === 0) {
          sb[n++] = b;
        } else if (e === 1) {
          sb[n++] = 0x5c;
          sb[n++] = b;
        } else {
          sb[n++] = 0x5c;
          sb[n++] = 48 + ((b / 100) | 0);
          sb[n++] = 48 + (((b / 10) | 0) % 10);
          sb[n++] = 48 + (b % 10);
        }
      }
      sb[n++] = 0x2e;
      off = end;
    } else if (kind === 0xc0) {
      if (off >= len) throw new WireError('dns: buffer size too small');
      const c1 = msg[off++]!;
      if (ptr === 0) off1 = off;
      if (++ptr > MAX_POINTERS) throw new WireError('dns: too many compression pointers');
      off = ((c ^ 0xc0) << 8) | c1;
    } else {
      throw new WireError('dns: bad rdata');
    }
  }
  out.off = ptr === 0 ? off : off1;
  return n === 0 ? '.' : latin1Slice.call(sb, 0, n);
}

/** Buffer's own latin1 decoder (what `toString('latin1', ...)` ends in, without the argument checks). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (this: Buffer, start: number, end: number) => string }).latin1Slice;

/** True when the name ends with an unescaped dot. */
export function isFqdn(s: string): boolean {
  const n = s.length;
  if (n === 0 || s.charCodeAt(n - 1) !== 0x2e) return false;
  // count backslashes before the final dot
  let i = n - 2;
  while (i >= 0 && s.charCodeAt(i) === 0x5c) i--;
  return (n - 2 - i) % 2 === 0;
}

/** Appends a dot unless the name is already fully qualified. */
export function fqdnOf(s: string): string {
  return isFqdn(s) ? s : s + '.';
}

/**
 * Converts a presentation name to its labels as raw bytes (escapes decoded).
 * Throws on empty labels (other than the root) and labels over 63 octets.
 */
export function nameToLabels(s: string): Uint8Array[] {
  if (s === '.' || s === '') return [];
  if (!isFqdn(s)) throw new WireError('dns: domain must be fully qualified');
  const labels: Uint8Array[] = [];
  let cur: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x5c) {
      if (i + 3 < s.length && isDigit(s, i + 1) && isDigit(s, i + 2) && isDigit(s, i + 3)) {
        cur.push(((s.charCodeAt(i + 1) - 48) * 100 + (s.charCodeAt(i + 2) - 48) * 10 + (s.charCodeAt(i + 3) - 48)) & 0xff);
        i += 3;
      } else if (i + 1 < s.length) {
        pushUtf8(cur, s, ++i);
        if (s.charCodeAt(i) > 0xffff || (s.charCodeAt(i) >= 0xd800 && s.charCodeAt(i) <= 0xdbff)) i++;
      }
    } else if (ch === 0x2e) {
      if (cur.length === 0) throw new WireError('dns: bad rdata');
      if (cur.length > 63) throw new WireError('dns: bad rdata');
      labels.push(Uint8Array.from(cur));
      cur = [];
    } else {
      const adv = pushUtf8(cur, s, i);
      i += adv - 1;
    }
  }
  return labels;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** Pushes the UTF-8 bytes of the code point at s[i]; returns UTF-16 units consumed. */
function pushUtf8(out: number[], s: string, i: number): number {
  const cp = s.codePointAt(i)!;
  if (cp < 0x80) {
    out.push(cp);
    return 1;
  }
  const bytes = Buffer.from(String.fromCodePoint(cp), 'utf8');
  for (const b of bytes) out.push(b);
  return cp > 0xffff ? 2 : 1;
}

/** Wire length of an uncompressed name (CoreDNS's escapedNameLen + 1). */
export function nameWireLength(s: string): number {
  if (s === '' || s === '.') return 1;
  if (s.indexOf('\\') === -1 && isAscii(s)) return s.length + (isFqdn(s) ? 1 : 2);
  let n = 0;
  for (const l of nameToLabels(fqdnOf(s))) n += l.length + 1;
  return n + 1;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Offsets (in the presentation string) where each label starts, used for the
 * compression map keys, which are presentation suffixes as in CoreDNS.
 */
export function labelStarts(s: string): number[] {
  const starts: number[] = [];
  if (s === '.' || s === '') return starts;
  let begin = true;
  for (let i = 0; i < s.length; i++) {
    if (begin) {
      starts.push(i);
      begin = false;
    }
    const ch = s.charCodeAt(i);
    if (ch === 0x5c) {
      if (i + 3 < s.length && isDigit(s, i + 1) && isDigit(s, i + 2) && isDigit(s, i + 3)) i += 3;
      else i++;
    } else if (ch === 0x2e) {
      begin = true;
    }
  }
  // the position after the final dot is the root, never a key
  return starts;
}

/**
 * Lower-cases a presentation name when it has ASCII upper-case letters (then
 * the whole string, as `toLowerCase`); otherwise returns it unchanged.
 */
export function lowerName(s: string): string {
  // the engine's case conversion is much faster than a loop over the characters,
  // and returns an equal string when nothing changes (the common case)
  const l = s.toLowerCase();
  if (l === s) return s;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return l;
  }
  return s; // only non-ASCII letters changed: kept as they are
}

/** Case-insensitive equality of two presentation names. */
export function nameEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return a === b || lowerName(a) === lowerName(b);
}
