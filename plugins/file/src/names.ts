/**
 * Name helpers with miekg/dns semantics, working on presentation strings.
 *
 * Zone files are read as bytes and handled as latin1 strings (one character
 * per byte) until a name is stored; stored names are canonical tsdns
 * presentation names (`\DDD` for bytes outside printable ASCII, `\.` and
 * friends for special characters), exactly what a query unpacked from the
 * wire looks like.
 */
import { byteNameLabels, countLabels, fqdnOf, isFqdn, isSubDomain, lowerName, nextLabel, splitDomainName, unpackName } from '@tsdns/core';

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

/**
 * dns.IsDomainName on a byte string: label count, or -1 when not a valid
 * name (empty labels, labels over 63 octets, names over 255 octets, a
 * dangling escape).
 */
export function domainNameLabels(name: string): number {
  if (name.length === 0) return -1;
  return byteNameLabels(fqdnOf(name)) ?? -1;
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
  const labels = labelBytes(fqdnOf(name));
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

/** CoreDNS dnsutil.Join. */
export function joinLabels(labels: string[]): string {
  const ll = labels.length;
  if (ll === 0) return '.';
  if (labels[ll - 1] === '.') return labels.slice(0, ll - 1).join('.') + '.';
  return fqdnOf(labels.join('.'));
}

/**
 * RFC 6672 DNAME substitution (CoreDNS substituteDNAME): '' when `qname` is
 * not strictly below `owner`.
 */
export function substituteDNAME(qname: string, owner: string, target: string): string {
  if (isSubDomain(owner, qname) && qname !== owner) {
    const labels = splitDomainName(qname);
    const keep = labels.slice(0, labels.length - countLabels(owner));
    return joinLabels([...keep, ...splitDomainName(target)]);
  }
  return '';
}

/** CoreDNS replaceWithAsteriskLabel: `*.` + the name without its first label ('' for the root). */
export function replaceWithAsteriskLabel(qname: string): string {
  const r = nextLabel(qname, 0);
  if (r.end) return '';
  return '*.' + qname.slice(r.index);
}

/**
 * The key a name sorts and matches by in the zone tree (CoreDNS tree.less):
 * labels from the right, each with its trailing dot, lower-cased, `\DDD`
 * turned into the byte. Equal keys mean the same tree node.
 */
export function treeLabels(name: string): string[] {
  if (name === '') return [];
  const n = lowerName(name);
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
