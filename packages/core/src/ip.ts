/**
 * IP addresses and networks as Go's `net` package handles them, shared by plugins
 * that parse addresses from configuration or files: `net.ParseIP` (which is
 * `netip.ParseAddr` without zones: no leading zeros in IPv4 octets, at most
 * four hex digits per IPv6 group, one `::`, an embedded IPv4 only in the last
 * 32 bits) and `net.IP.String()` (dotted quad for IPv4 and IPv4-mapped IPv6,
 * RFC 5952 text for the rest). Addresses are 16-byte arrays, as Go's.
 */

/** Go's `net.ParseIP`: 16 bytes (IPv4 as IPv4-mapped), or undefined. Zones are not accepted. */
export function parseGoIP(s: string): Uint8Array | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e /* . */) {
      const out = new Uint8Array(16);
      out[10] = 0xff;
      out[11] = 0xff;
      return parseIPv4Fields(s, 0, s.length, out, 12) ? out : undefined;
    }
    if (c === 0x3a /* : */) return parseIPv6(s);
    if (c === 0x25 /* % */) return undefined;
  }
  return undefined;
}

function parseIPv4Fields(s: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let val = 0;
  let pos = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && val === 0) return false; // leading zero
      val = val * 10 + (c - 0x30);
      digits++;
      if (val > 255) return false;
    } else if (c === 0x2e) {
      if (i === start || i === end - 1 || s.charCodeAt(i - 1) === 0x2e) return false;
      if (pos === 3) return false;
      out[at + pos] = val;
      pos++;
      val = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (pos < 3) return false;
  out[at + 3] = val;
  return true;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function parseIPv6(s: string): Uint8Array | undefined {
  if (s.includes('%')) return undefined; // net.ParseIP rejects zones
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  let p = 0;
  if (s.length >= 2 && s[0] === ':' && s[1] === ':') {
    ellipsis = 0;
    p = 2;
    if (p === s.length) return ip;
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; p + off < s.length; off++) {
      const h = hexVal(s.charCodeAt(p + off));
      if (h < 0) break;
      acc = (acc << 4) + h;
      if (off > 3) return undefined;
      if (acc > 0xffff) return undefined;
    }
    if (off === 0) return undefined;
    if (p + off < s.length && s[p + off] === '.') {
      if (ellipsis < 0 && i !== 12) return undefined;
      if (i + 4 > 16) return undefined;
      if (!parseIPv4Fields(s, p, s.length, ip, i)) return undefined;
      p = s.length;
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    p += off;
    if (p === s.length) break;
    if (s[p] !== ':') return undefined;
    if (p + 1 === s.length) return undefined;
    p++;
    if (s[p] === ':') {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      p++;
      if (p === s.length) break;
    }
  }
  if (p !== s.length) return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j]!;
    ip.fill(0, ellipsis, ellipsis + n);
  } else if (ellipsis >= 0) {
    return undefined;
  }
  return ip;
}

/** True when the 16-byte address is IPv4-mapped (Go's `To4() != nil`). */
export function isV4(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** Go's `net.IP.String()` of a 16-byte address. */
export function ipString(ip: Uint8Array): string {
  if (isV4(ip)) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  let zs = 255;
  let ze = 255;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && ip[2 * j] === 0 && ip[2 * j + 1] === 0) j++;
    const l = j - i;
    if (l >= 2 && l > ze - zs) {
      zs = i;
      ze = j;
    }
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === zs) {
      out += '::';
      i = ze;
      if (i >= 8) break;
    } else if (i > 0) {
      out += ':';
    }
    out += ((ip[2 * i]! << 8) | ip[2 * i + 1]!).toString(16);
  }
  return out;
}

/** A network as Go's `*net.IPNet` from `net.ParseCIDR`, kept in 16-byte form. */
export interface IPNet {
  /** The masked network address (16 bytes; IPv4 networks IPv4-mapped). */
  readonly ip: Uint8Array;
  /** The mask (16 bytes; an IPv4 /n is 96 + n leading ones). */
  readonly mask: Uint8Array;
  /** True for an IPv4 network (the masked address is IPv4-mapped). */
  readonly v4: boolean;
}

/**
 * The parts of a `net.ParseCIDR` argument `ADDRESS/BITS`: the address (16
 * bytes, not masked), the prefix length (0 to 32 for IPv4, 128 for IPv6) and
 * whether the address is written as IPv4 (netip's `Is4()`: a dotted quad, not
 * IPv4-mapped IPv6); undefined when `s` is not a valid CIDR. Zones are rejected.
 */
export function parseGoCIDRParts(s: string): { ip: Uint8Array; bits: number; is4: boolean } | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const ip = parseGoIP(addr);
  if (!ip) return undefined;
  const is4 = !addr.includes(':');
  const bits = s.slice(slash + 1);
  // Go's dtoi: decimal digits only
  if (!/^[0-9]+$/.test(bits)) return undefined;
  const n = Number(bits);
  if (n > (is4 ? 32 : 128)) return undefined;
  return { ip, bits: n, is4 };
}

/**
 * Go's `net.ParseCIDR`: `ADDRESS/BITS` with BITS from 0 to 32 (IPv4) or 128
 * (IPv6). Throws Go's error text `invalid CIDR address: S`.
 */
export function parseGoCIDR(s: string): IPNet {
  const parts = parseGoCIDRParts(s);
  if (!parts) throw new Error(`invalid CIDR address: ${s}`);
  const { ip, bits, is4 } = parts;
  const ones = is4 ? 96 + bits : bits;
  const mask = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const b = Math.max(0, Math.min(8, ones - i * 8));
    mask[i] = b === 0 ? 0 : (0xff << (8 - b)) & 0xff;
  }
  const net = new Uint8Array(16);
  for (let i = 0; i < 16; i++) net[i] = ip[i]! & mask[i]!;
  return { ip: net, mask, v4: isV4(net) };
}

/** Go's `(*net.IPNet).Contains`: IPv4 networks only contain IPv4 (or IPv4-mapped) addresses, IPv6 ones only IPv6. */
export function netContains(n: IPNet, ip: Uint8Array): boolean {
  if (n.v4 !== isV4(ip)) return false;
  for (let i = n.v4 ? 12 : 0; i < 16; i++) if ((ip[i]! & n.mask[i]!) !== n.ip[i]) return false;
  return true;
}

/** Go's `net.IP.Equal` on 16-byte forms. */
export function ipEqual(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * CoreDNS's `dnsutil.ExtractAddressFromReverse`: the address of an
 * `in-addr.arpa.` or `ip6.arpa.` name in Go's text form, or '' when the name
 * is not a (complete, valid) reverse name.
 */
export function addressFromReverse(name: string): string {
  if (name.endsWith('.in-addr.arpa.')) {
    const labels = name.slice(0, -'.in-addr.arpa.'.length).split('.').reverse();
    const ip = parseGoIP(labels.join('.'));
    return ip && isV4(ip) ? ipString(ip) : '';
  }
  if (name.endsWith('.ip6.arpa.')) {
    const labels = name.slice(0, -'.ip6.arpa.'.length).split('.').reverse();
    const groups: string[] = [];
    for (let i = 0; i + 4 <= labels.length; i += 4) groups.push(labels.slice(i, i + 4).join(''));
    const ip = parseGoIP(groups.join(':'));
    return ip ? ipString(ip) : '';
  }
  return '';
}
