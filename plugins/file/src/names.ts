/**
 * Name helpers with miekg/dns semantics, working on presentation strings.
 *
 * Zone files are read as bytes and handled as latin1 strings (one character
 * per byte) until a name is stored; stored names are canonical tsdns
 * presentation names (`\DDD` for bytes outside printable ASCII, `\.` and
 * friends for special characters), exactly what a query unpacked from the
 * wire looks like.
 */
import { isSubDomain, unpackName } from '@tsdns/core';

/** miekg `isDDD`: three decimal digits at `s[i..i+2]`. */
export function isDDD(s: string, i: number): boolean {
  if (i + 3 > s.length) return false;
  for (let k = i; k < i + 3; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** `\DDD` at `s[i..i+2]` as a byte value. */
export function dddToByte(s: string, i: number): number {
  return ((s.charCodeAt(i) - 48) * 100 + (s.charCodeAt(i + 1) - 48) * 10 + (s.charCodeAt(i + 2) - 48)) & 0xff;
}

/** dns.IsFqdn. */
export function isFqdn(s: string): boolean {
  if (s === '' || s.charCodeAt(s.length - 1) !== 0x2e) return false;
  const body = s.slice(0, -1);
  if (body === '' || body.charCodeAt(body.length - 1) !== 0x5c) return true;
  let i = body.length - 1;
  while (i >= 0 && body.charCodeAt(i) === 0x5c) i--;
  return (body.length - i) % 2 !== 0;
}

/** dns.Fqdn. */
export function fqdn(s: string): string {
  return isFqdn(s) ? s : s + '.';
}

/**
 * dns.IsDomainName on a byte string: label count, or -1 when not a valid
 * name (empty labels, labels over 63 octets, names over 255 octets, a
 * dangling escape).
 */
export function domainNameLabels(name: string): number {
  const lenmsg = 256;
  if (name.length === 0) return -1;
  const s = fqdn(name);
  let labels = 0;
  let off = 0;
  let begin = 0;
  let wasDot = false;
  let escape = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      escape = !escape;
      if (off + 1 > lenmsg) return -1;
      if (isDDD(s, i + 1)) {
        i += 3;
        begin += 3;
      } else {
        i++;
        begin++;
      }
      wasDot = false;
    } else if (c === 0x2e) {
      escape = false;
      if (i === 0 && s.length > 1) return -1;
      if (wasDot) return -1;
      wasDot = true;
      const labelLen = i - begin;
      if (labelLen >= 64) return -1;
      off += 1 + labelLen;
      if (off > lenmsg) return -1;
      labels++;
      begin = i + 1;
    } else {
      escape = false;
      wasDot = false;
    }
  }
  if (escape) return -1;
  return labels;
}

/**
 * miekg's toAbsoluteName: `@` is the origin, relative names get the origin
 * appended, absolute ones are kept. Undefined when the name is invalid (or
 * relative without an origin).
 */
export function toAbsoluteName(name: string, origin: string): string | undefined {
  if (name === '@') return origin === '' ? undefined : origin;
  if (name === '\n') return undefined;
  if (name === '' || domainNameLabels(name) < 0) return undefined;
  if (isFqdn(name)) return name;
  if (origin === '') return undefined;
  return origin === '.' ? name + origin : name + '.' + origin;
}

/**
 * Labels of a presentation name as raw bytes, decoding `\DDD` and `\X`
 * escapes (miekg's PackDomainName). Characters are bytes (latin1).
 */
export function labelBytes(name: string): number[][] {
  const out: number[][] = [];
  if (name === '.' || name === '') return out;
  let cur: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c) {
      if (isDDD(name, i + 1)) {
        cur.push(dddToByte(name, i + 1));
        i += 3;
      } else if (i + 1 < name.length) {
        cur.push(name.charCodeAt(++i) & 0xff);
      }
    } else if (c === 0x2e) {
      out.push(cur);
      cur = [];
    } else {
      cur.push(c & 0xff);
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Uncompressed wire form of a presentation name. */
export function nameWire(name: string): Buffer {
  const labels = labelBytes(fqdn(name));
  let n = 1;
  for (const l of labels) n += l.length + 1;
  const b = Buffer.alloc(n);
  let o = 0;
  for (const l of labels) {
    b[o++] = l.length;
    for (const x of l) b[o++] = x;
  }
  b[o] = 0;
  return b;
}

const plainName = /^[A-Za-z0-9*_\-/+=!#$%&,:<>?[\]^`{|}~.]*$/;

/**
 * The canonical presentation of a name: pack then unpack, as CoreDNS's
 * `canonicalEscape` does, so `has\046dot` becomes `has\.dot` and bytes
 * outside printable ASCII become `\DDD`. Case is kept.
 */
export function canonicalName(name: string): string {
  if (plainName.test(name)) return name;
  return unpackName(nameWire(name), 0, { off: 0 });
}

/** ASCII lower-casing (names are canonical, so ASCII only). */
export function lower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.toLowerCase();
  }
  return s;
}

/**
 * dns.PrevLabel: index of the label `n` labels back from the end of `s`, and
 * whether we went past the start.
 */
export function prevLabel(s: string, n: number): { i: number; start: boolean } {
  if (s === '') return { i: 0, start: true };
  if (n === 0) return { i: s.length, start: false };
  let l = s.length - 1;
  if (s.charCodeAt(l) === 0x2e) l--;
  for (; l >= 0 && n > 0; l--) {
    if (s.charCodeAt(l) !== 0x2e) continue;
    let j = l - 1;
    while (j >= 0 && s.charCodeAt(j) === 0x5c) j--;
    if ((j - l) % 2 === 0) continue;
    n--;
    if (n === 0) return { i: l + 1, start: false };
  }
  return { i: 0, start: n > 1 };
}

/** dns.NextLabel: start of the label after `offset`, and whether the end was reached. */
export function nextLabel(s: string, offset: number): { i: number; end: boolean } {
  if (s === '') return { i: 0, end: true };
  let i = offset;
  for (; i < s.length - 1; i++) {
    if (s.charCodeAt(i) !== 0x2e) continue;
    let j = i - 1;
    while (j >= 0 && s.charCodeAt(j) === 0x5c) j--;
    if ((j - i) % 2 === 0) continue;
    return { i: i + 1, end: false };
  }
  return { i: i + 1, end: true };
}

/** dns.CountLabel. */
export function countLabel(s: string): number {
  let labels = 0;
  let off = 0;
  for (;;) {
    const r = nextLabel(s, off);
    off = r.i;
    labels++;
    if (r.end) return labels;
  }
}

/** dns.SplitDomainName: the labels of `s` (escapes kept); [] for the root. */
export function splitDomainName(s: string): string[] {
  if (s === '' || s === '.') return [];
  const idx: number[] = [0];
  let off = 0;
  for (;;) {
    const r = nextLabel(s, off);
    off = r.i;
    if (r.end) break;
    idx.push(off);
  }
  const end = isFqdn(s) ? s.length - 1 : s.length;
  const labels: string[] = [];
  for (let k = 0; k < idx.length; k++) {
    const b = idx[k]!;
    const e = k + 1 < idx.length ? idx[k + 1]! - 1 : end;
    labels.push(s.slice(b, e));
  }
  return labels;
}

/** CoreDNS dnsutil.Join. */
export function joinLabels(labels: string[]): string {
  const ll = labels.length;
  if (ll === 0) return '.';
  if (labels[ll - 1] === '.') return labels.slice(0, ll - 1).join('.') + '.';
  return fqdn(labels.join('.'));
}

/**
 * RFC 6672 DNAME substitution (CoreDNS substituteDNAME): '' when `qname` is
 * not strictly below `owner`.
 */
export function substituteDNAME(qname: string, owner: string, target: string): string {
  if (isSubDomain(owner, qname) && qname !== owner) {
    const labels = splitDomainName(qname);
    const keep = labels.slice(0, labels.length - countLabelOrZero(owner));
    return joinLabels([...keep, ...splitDomainName(target)]);
  }
  return '';
}

function countLabelOrZero(s: string): number {
  return s === '.' ? 0 : countLabel(s);
}

/** CoreDNS replaceWithAsteriskLabel: `*.` + the name without its first label ('' for the root). */
export function replaceWithAsteriskLabel(qname: string): string {
  const r = nextLabel(qname, 0);
  if (r.end) return '';
  return '*.' + qname.slice(r.i);
}

/**
 * The key a name sorts and matches by in the zone tree (CoreDNS tree.less):
 * labels from the right, each with its trailing dot, lower-cased, `\DDD`
 * turned into the byte. Equal keys mean the same tree node.
 */
export function treeLabels(name: string): string[] {
  if (name === '') return [];
  const n = lower(name);
  // label starts: after every unescaped dot but the last character
  const starts = [0];
  let escapes = false;
  for (let i = 0; i < n.length - 1; i++) {
    const c = n.charCodeAt(i);
    if (c === 0x5c) {
      escapes = true;
      i++;
    } else if (c === 0x2e) {
      starts.push(i + 1);
    }
  }
  const out: string[] = new Array<string>(starts.length);
  let end = n.length;
  for (let k = starts.length - 1, o = 0; k >= 0; k--, o++) {
    const l = n.slice(starts[k], end);
    out[o] = escapes ? doDDD(l) : l;
    end = starts[k]!;
  }
  return out;
}

function doDDD(s: string): string {
  if (s.indexOf('\\') === -1) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) === 0x5c && i + 3 < s.length && isDDD(s, i + 1)) {
      out += String.fromCharCode(dddToByte(s, i + 1));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

/** Compares tree label arrays: <0, 0, >0 as CoreDNS's less(a, b). */
export function compareTreeLabels(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
